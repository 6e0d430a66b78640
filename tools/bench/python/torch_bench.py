#!/usr/bin/env python3
"""PyTorch CPU anchor of @batchnorm/bench (tools/bench/README.md, "PyTorch anchor").

Reads one job as JSON on stdin: a layout and shape, the kernel ops, the thread count, epsilon,
a seed and the bench's plan table. Times torch.nn.BatchNorm1d/2d/3d on that shape in this
process (channels-last layouts in PyTorch's channels_last memory format; NLC as an [N*L, C]
view, which BatchNorm1d normalizes over the same elements), and prints one JSON document on
stdout. Progress goes to stderr. Each op's first call is checked against an independent float64
recomputation before anything is timed, with the bench's tolerance.

Standalone: echo '{"layout":"NHWC","shape":[32,56,56,64],"threads":2}' | python3 torch_bench.py
"""
import json
import math
import sys
import time

OPS = ("forwardTraining", "forwardInference", "backward")
DEFAULT_PLANS = [
    {"aboveMs": 2000, "plan": {"warmupIterations": 0, "minIterations": 1, "timeBudgetMs": 0, "rounds": 1, "roundWarmupIterations": 0}},
    {"aboveMs": 200, "plan": {"warmupIterations": 1, "minIterations": 2, "timeBudgetMs": 0, "rounds": 3, "roundWarmupIterations": 0}},
    {"aboveMs": -1, "plan": {"warmupIterations": 3, "minIterations": 5, "timeBudgetMs": 300, "rounds": 3, "roundWarmupIterations": 1}},
]


def log(text):
    print(f"pytorch: {text}", file=sys.stderr, flush=True)


def median(values):
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 == 1 else (s[mid - 1] + s[mid]) / 2


def plan_for(first_ms, plans, rounds):
    plan = next(step["plan"] for step in plans if first_ms > step["aboveMs"])
    if rounds is not None and plan["rounds"] != 1:
        plan = {**plan, "rounds": rounds}
    return plan


def time_rounds(run, plan):
    """The bench's measureRounds for one task: rounds of >= minIterations calls and >= the budget."""
    medians, samples = [], 0
    for r in range(max(1, plan["rounds"])):
        for _ in range(plan["warmupIterations"] if r == 0 else plan["roundWarmupIterations"]):
            run()
        times, spent = [], 0.0
        while len(times) < plan["minIterations"] or spent < plan["timeBudgetMs"]:
            t0 = time.perf_counter()
            run()
            ms = (time.perf_counter() - t0) * 1000
            times.append(ms)
            spent += ms
        medians.append(median(times))
        samples += len(times)
    return {
        "medianMs": median(medians),
        "minMs": min(medians),
        "maxMs": max(medians),
        "roundMediansMs": medians,
        "samples": samples,
        "rounds": len(medians),
    }


def mismatch(name, got, want, atol, rtol):
    got = got.double()
    bad = (got - want).abs() > atol + rtol * want.abs()
    count = int(bad.sum())
    if count == 0:
        return None
    i = int(bad.flatten().nonzero()[0])
    return f"{name}[{i}] = {float(got.flatten()[i])}, expected {float(want.flatten()[i])} ({count} of {want.numel()} values outside atol {atol:.3g} + rtol {rtol})"


def main():
    job = json.load(sys.stdin)
    import torch

    layout, shape = job["layout"], list(job["shape"])
    ops = job.get("ops", OPS)
    threads = int(job.get("threads", torch.get_num_threads()))
    eps = float(job.get("epsilon", 1e-5))
    plans = job.get("plans", DEFAULT_PLANS)
    rounds = job.get("rounds")
    torch.set_num_threads(threads)
    torch.manual_seed(int(job.get("seed", 7)))

    channels_last = layout in ("NLC", "NHWC", "NDHWC")
    c = shape[-1] if channels_last else shape[1]
    # Storage in the layout's own order; `logical` is the [N, C, ...] view BatchNorm takes.
    offset = torch.rand(c) * 4 - 2
    scale = 0.5 + 1.5 * torch.rand(c)
    x = torch.randn(shape)
    dy = torch.randn(shape)
    if channels_last:
        x = x * scale + offset
    else:
        bshape = [1, c] + [1] * (len(shape) - 2)
        x = x * scale.view(bshape) + offset.view(bshape)

    def logical(t):
        if layout == "NLC":
            return t.reshape(-1, c)  # [N*L, C]: the same per-feature reduction, contiguous
        if channels_last:
            return t.permute(0, len(shape) - 1, *range(1, len(shape) - 1))  # channels_last strides
        return t

    xl, dyl = logical(x), logical(dy)
    if layout in ("NHWC", "NDHWC"):
        fmt = torch.channels_last if layout == "NHWC" else torch.channels_last_3d
        assert xl.is_contiguous(memory_format=fmt) and dyl.is_contiguous(memory_format=fmt)
    module = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d, 5: torch.nn.BatchNorm3d}[xl.dim()]
    bn = module(c, eps=eps)
    with torch.no_grad():
        bn.weight.copy_(0.5 + torch.rand(c))
        bn.bias.copy_(torch.rand(c) - 0.5)
    pop_mean = offset + 0.1 * torch.randn(c)
    pop_var = scale * scale * (0.9 + 0.2 * torch.rand(c))

    # float64 expectations, recomputed from the formulas (not through BatchNorm).
    dims = [0] + list(range(2, xl.dim()))
    vshape = [1, c] + [1] * (xl.dim() - 2)
    m = xl.numel() // c
    x64, dy64 = xl.double(), dyl.double()
    g64, b64 = bn.weight.detach().double().view(vshape), bn.bias.detach().double().view(vshape)

    def expected(op):
        if op == "forwardInference":
            inv = 1 / torch.sqrt(pop_var.double().view(vshape) + eps)
            return {"y": g64 * (x64 - pop_mean.double().view(vshape)) * inv + b64}
        mean = x64.mean(dims, keepdim=True)
        inv = 1 / torch.sqrt(((x64 - mean) ** 2).mean(dims, keepdim=True) + eps)
        xhat = (x64 - mean) * inv
        if op == "forwardTraining":
            return {"y": g64 * xhat + b64}
        sdy = dy64.sum(dims, keepdim=True)
        sdyx = (dy64 * xhat).sum(dims, keepdim=True)
        return {
            "dx": g64 * inv / m * (m * dy64 - sdy - xhat * sdyx),
            "dgamma": sdyx.flatten(),
            "dbeta": sdy.flatten(),
        }

    def prepare(op):
        """(a call returning the outputs to check, the timed call)."""
        if op == "forwardTraining":
            bn.train()
            return (lambda: {"y": bn(xl).detach()}), (lambda: bn(xl))
        if op == "forwardInference":
            bn.eval()
            with torch.no_grad():
                bn.running_mean.copy_(pop_mean)
                bn.running_var.copy_(pop_var)

            def infer():
                with torch.no_grad():
                    return bn(xl)

            return (lambda: {"y": infer()}), infer
        bn.train()
        xg = xl.detach().requires_grad_(True)
        y = bn(xg)  # the graph backward runs on, kept (retain_graph)
        params = (xg, bn.weight, bn.bias)

        def grads():
            return torch.autograd.grad(y, params, dyl, retain_graph=True)

        def named():
            dx, dg, db = grads()
            return {"dx": dx, "dgamma": dg, "dbeta": db}

        return named, grads

    results = []
    for op in ops:
        try:
            check, run = prepare(op)
            got = check()  # also the first call, with PyTorch's one-time set-up (autograd threads)
            want = expected(op)
            problems = []
            for name, w in want.items():
                atol = 1e-3 * (math.sqrt(m) if name in ("dgamma", "dbeta") else 1)
                p = mismatch(name, got[name].reshape(w.shape), w, atol, 1e-3)
                if p is not None:
                    problems.append(p)
            del got, want
            if problems:
                results.append({"op": op, "error": "wrong result, not timed: " + "; ".join(problems)})
                continue
            t0 = time.perf_counter()
            run()
            first_ms = (time.perf_counter() - t0) * 1000
            timing = time_rounds(run, plan_for(first_ms, plans, rounds))
            results.append({"op": op, **timing})
            log(f"{layout} {shape} {op} {timing['medianMs']:.3f} ms")
        except Exception as error:  # reported per op, as the bench does for its subjects
            results.append({"op": op, "error": f"failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"})
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

/* global process, console */
// Kernel benchmark of @batchnorm/backend-js: median ms of each batch-norm kernel and its ratio
// to a Float32Array.set copy of the same tensor, measured interleaved in the same run.
// Usage: pnpm --filter @batchnorm/backend-js bench [--quick] [--json] [--threads N] [--simd on|off]
import { performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { createRandom, geometryOf } from '@batchnorm/core';
import { createBackend } from '../dist/index.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`Kernel benchmark of @batchnorm/backend-js (times the built dist/: run pnpm build first).
Usage: node scripts/bench.mjs [options]
  --quick        7 repetitions instead of 21
  --json         JSON on stdout (machine, results)
  --threads N    only N threads (default: 1 and 2)
  --simd on|off  only the SIMD loops or only the TypeScript loops (default: both)
  --help         this text`);
  process.exit(0);
}
const quick = args.includes('--quick');
const json = args.includes('--json');
const threadsArg = args.indexOf('--threads');
const threadOptions = threadsArg >= 0 ? [Number(args[threadsArg + 1])] : [1, 2];
const simdArg = args.indexOf('--simd');
const simdOptions = simdArg >= 0 ? [args[simdArg + 1] === 'on'] : [true, false];
const reps = quick ? 7 : 21;

const shapes = [
  { layout: 'NC', shape: [4096, 4096] },
  { layout: 'NCHW', shape: [32, 64, 56, 56] },
  { layout: 'NHWC', shape: [32, 56, 56, 64] },
  // Volumes of the same size: the kernels see only the memory order, so these should time as
  // NCHW and NHWC do (NCDHW has 8 rows to split, not 32).
  { layout: 'NCDHW', shape: [8, 64, 4, 56, 56] },
  { layout: 'NDHWC', shape: [8, 4, 56, 56, 64] },
  { layout: 'NC', shape: [256, 4096] },
  { layout: 'NC', shape: [60, 100] },
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function randomData(seed, length) {
  const random = createRandom(seed);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = random.normal();
  return data;
}

/**
 * Before timing anything: the batch statistics must match a plain float64 two-pass computation,
 * so the benchmark cannot silently time a kernel that does nothing.
 */
function checkStatistics(layout, shape, x, mean, variance) {
  // Any layout, viewed as [outer, C, inner] like the kernels do.
  const { channelsLast, n, c: channels, spatial, m } = geometryOf(layout, shape);
  const inner = channelsLast ? 1 : spatial;
  const outer = channelsLast ? n * spatial : n;
  for (const k of [0, channels >> 1, channels - 1]) {
    let sum = 0;
    for (let r = 0; r < outer; r++) for (let i = 0; i < inner; i++) sum += x[(r * channels + k) * inner + i];
    const mu = sum / m;
    let squares = 0;
    for (let r = 0; r < outer; r++) {
      for (let i = 0; i < inner; i++) squares += (x[(r * channels + k) * inner + i] - mu) ** 2;
    }
    const sigma2 = squares / m;
    if (Math.abs(mean[k] - mu) > 1e-5 || Math.abs(variance[k] - sigma2) > 1e-5 * sigma2) {
      throw new Error(`${layout} [${shape}] feature ${k}: mean ${mean[k]} / ${mu}, variance ${variance[k]} / ${sigma2}`);
    }
  }
}

/** CPU time of the whole process (all threads), ms: unlike wall time, not inflated by other processes. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Times `op` and a copy alternately; small tensors run in batches so a sample is ≥ ~0.2 ms. */
function measure(op, copy, inner) {
  const opTimes = [];
  const copyTimes = [];
  const opCpu = [];
  const copyCpu = [];
  for (let r = 0; r < reps + 3; r++) {
    let c = cpuMs();
    let t = performance.now();
    for (let i = 0; i < inner; i++) copy();
    const copyMs = (performance.now() - t) / inner;
    const copyCpuMs = (cpuMs() - c) / inner;
    c = cpuMs();
    t = performance.now();
    for (let i = 0; i < inner; i++) op();
    const opMs = (performance.now() - t) / inner;
    const opCpuMs = (cpuMs() - c) / inner;
    if (r >= 3) {
      copyTimes.push(copyMs);
      opTimes.push(opMs);
      copyCpu.push(copyCpuMs);
      opCpu.push(opCpuMs);
    }
  }
  return {
    medianMs: median(opTimes),
    copyMs: median(copyTimes),
    ratios: opTimes.map((o, i) => o / copyTimes[i]),
    cpuMs: median(opCpu),
    copyCpuMs: median(copyCpu),
  };
}

const loadBefore = loadavg()[0];
const results = [];
for (const [threads, simd] of threadOptions.flatMap((t) => simdOptions.map((v) => [t, v]))) {
  const backend = createBackend({ threads, simd });
  await backend.whenThreadsReady();
  if (simd && backend.details.simd !== 'wasm-simd128') throw new Error(`SIMD asked for but ${backend.details.simd}`);
  for (const { layout, shape } of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const { c } = geometryOf(layout, shape);
    const xData = randomData(1, size);
    const source = randomData(2, size);
    const target = new Float32Array(size).fill(1); // touched, like a pooled buffer
    const copy = () => target.set(source);
    const x = backend.upload(xData, shape);
    const dy = backend.upload(randomData(3, size), shape);
    const gamma = backend.upload(randomData(4, c), [c]);
    const beta = backend.upload(randomData(5, c), [c]);
    const attrs = { layout, epsilon: 1e-5 };
    const stats = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const { mean, variance, saved } = stats;
    checkStatistics(layout, shape, xData, backend.readSync(mean), backend.readSync(variance));
    backend.dispose(stats.y);
    const inner = Math.max(1, Math.round(2e5 / size));
    const ops = {
      forwardTraining: () => {
        const out = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
        backend.dispose(out.y);
        backend.dispose(out.mean);
        backend.dispose(out.variance);
        backend.disposeSaved(out.saved);
      },
      forwardInference: () => backend.dispose(backend.batchNormForwardInference({ x, gamma, beta, mean, variance }, attrs)),
      backward: () => {
        const out = backend.batchNormBackward({ dy, x, gamma, saved }, attrs);
        backend.dispose(out.dx);
        backend.dispose(out.dgamma);
        backend.dispose(out.dbeta);
      },
    };
    for (const [op, run] of Object.entries(ops)) {
      const m = measure(run, copy, inner);
      results.push({
        backend: 'js',
        threads,
        simd,
        op,
        layout,
        shape,
        medianMs: m.medianMs,
        copyMs: m.copyMs,
        ratioToCopy: median(m.ratios),
        cpuMs: m.cpuMs,
        cpuRatioToCopy: m.cpuMs / m.copyCpuMs,
      });
    }
    for (const t of [x, dy, gamma, beta, mean, variance]) backend.dispose(t);
    backend.disposeSaved(saved);
  }

  // matMul at the sizes of the paper's MNIST network (60 examples, 784-100-100-100-10).
  const matMuls = [
    { name: 'x·W1 [60,784]·[784,100]', a: [60, 784], b: [784, 100] },
    { name: 'h·W [60,100]·[100,100]', a: [60, 100], b: [100, 100] },
    { name: 'h·W4 [60,100]·[100,10]', a: [60, 100], b: [100, 10] },
    { name: 'xᵀ·dy [60,784]ᵀ·[60,100]', a: [60, 784], b: [60, 100], attrs: { transposeA: true } },
    { name: 'dy·W1ᵀ [60,100]·[784,100]ᵀ', a: [60, 100], b: [784, 100], attrs: { transposeB: true } },
  ];
  for (const { name, a: aShape, b: bShape, attrs = {} } of matMuls) {
    const a = backend.upload(randomData(6, aShape[0] * aShape[1]), aShape);
    const b = backend.upload(randomData(7, bShape[0] * bShape[1]), bShape);
    const probe = backend.matMul(a, b, attrs);
    const [rows, cols] = probe.shape;
    backend.dispose(probe);
    const depth = attrs.transposeA ? aShape[0] : aShape[1];
    const outSize = rows * cols;
    const source = randomData(8, outSize);
    const target = new Float32Array(outSize).fill(1);
    const m = measure(() => backend.dispose(backend.matMul(a, b, attrs)), () => target.set(source), 50);
    results.push({
      backend: 'js',
      threads,
      simd,
      op: 'matMul',
      name,
      shape: [rows, depth, cols],
      medianMs: m.medianMs,
      gflops: (2 * rows * depth * cols) / (m.medianMs * 1e6),
      cpuMs: m.cpuMs,
    });
    backend.dispose(a);
    backend.dispose(b);
  }
  backend.destroy();
}

if (json) {
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage: [loadBefore, loadavg()[0]] };
  console.log(JSON.stringify({ machine, results }, null, 2));
} else {
  console.log(`backend-js kernels — ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, median of ${reps}, 1-min load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
  console.log('wall: median ms of the call; ×copy: median of per-repetition ratios to the copy;');
  console.log('cpu: process CPU ms per call (all threads) and its ratio to the copy\'s CPU ms (robust to other load)');
  console.log('threads simd op                layout  shape                 median ms   copy ms   ×copy    cpu ms  cpu×copy');
  for (const r of results) {
    if (r.op === 'matMul') continue;
    console.log(
      `${String(r.threads).padEnd(7)} ${(r.simd ? 'on' : 'off').padEnd(4)} ${r.op.padEnd(17)} ${r.layout.padEnd(7)} ${`[${r.shape.join(',')}]`.padEnd(21)} ${r.medianMs.toFixed(3).padStart(9)} ${r.copyMs.toFixed(3).padStart(9)} ${r.ratioToCopy.toFixed(2).padStart(7)} ${r.cpuMs.toFixed(3).padStart(9)} ${r.cpuRatioToCopy.toFixed(2).padStart(8)}`,
    );
  }
  console.log('\nthreads simd matMul                              median ms   GFLOP/s    cpu ms');
  for (const r of results) {
    if (r.op !== 'matMul') continue;
    console.log(`${String(r.threads).padEnd(7)} ${(r.simd ? 'on' : 'off').padEnd(4)} ${r.name.padEnd(35)} ${r.medianMs.toFixed(4).padStart(9)} ${r.gflops.toFixed(2).padStart(9)} ${r.cpuMs.toFixed(4).padStart(9)}`);
  }
}

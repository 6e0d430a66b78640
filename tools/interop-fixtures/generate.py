#!/usr/bin/env python3
"""Fixtures of @batchnorm/interop, from the real engines, and the round trip through PyTorch.

Writes (committed; `pnpm test` needs no Python):
  packages/interop/fixtures/onnx-tests/test_ort_*     ONNX backend tests, onnxruntime as the oracle
  packages/interop/fixtures/pytorch/<name>.safetensors + <name>.json
                                                      BatchNorm1d/2d/3d trained a few steps, their
                                                      state_dict and eval/training outputs
Then checks OUR files against the real engines: runs tools/interop-fixtures/export-ours.mjs
(needs `pnpm --filter @batchnorm/interop build`), loads its safetensors into PyTorch modules with
load_state_dict(strict=True) and compares tensors and outputs, runs its ONNX models through
onnx.checker (full_check) and onnxruntime. Exits 1 on any mismatch.

  python tools/interop-fixtures/generate.py            # regenerate fixtures, then check
  python tools/interop-fixtures/generate.py --check    # only the round trip (fixtures unchanged)

See README.md beside this file for the venv.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
FIXTURES = os.path.join(ROOT, 'packages', 'interop', 'fixtures')
ONNX_TESTS = os.path.join(FIXTURES, 'onnx-tests')
PYTORCH = os.path.join(FIXTURES, 'pytorch')

LAYOUT_OF_RANK = {2: 'NC', 3: 'NCL', 4: 'NCHW', 5: 'NCDHW'}


# ----------------------------------------------------------------------------------------------
# ONNX backend tests with onnxruntime as the oracle


def bn_test(name, opset, shape, momentum, epsilon, training, params_as_inputs, seed, offset=0.0, data_sets=1):
    """One ONNX backend-test directory: model.onnx of one BatchNormalization node, data sets."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    params = {
        'scale': rng.uniform(0.5, 1.5, c).astype(np.float32),
        'B': rng.uniform(-0.5, 0.5, c).astype(np.float32),
        'input_mean': (offset + rng.uniform(-1, 1, c)).astype(np.float32),
        'input_var': rng.uniform(0.5, 2.0, c).astype(np.float32),
    }
    x_info = helper.make_tensor_value_info('x', TensorProto.FLOAT, list(shape))
    inputs = [x_info]
    initializers = []
    for key, value in params.items():
        if params_as_inputs:
            inputs.append(helper.make_tensor_value_info(key, TensorProto.FLOAT, [c]))
        else:
            initializers.append(numpy_helper.from_array(value, key))
    attrs = {'epsilon': epsilon, 'momentum': momentum}
    if training:
        if opset >= 14:
            attrs['training_mode'] = 1
            outputs = ['y', 'running_mean', 'running_var']
        else:
            outputs = ['y', 'running_mean', 'running_var', 'saved_mean', 'saved_var']
    else:
        outputs = ['y']
    node = helper.make_node('BatchNormalization', ['x', 'scale', 'B', 'input_mean', 'input_var'], outputs, name='bn', **attrs)
    out_infos = [helper.make_tensor_value_info('y', TensorProto.FLOAT, list(shape))]
    out_infos += [helper.make_tensor_value_info(o, TensorProto.FLOAT, [c]) for o in outputs[1:]]
    graph = helper.make_graph([node], name, inputs, out_infos, initializers)
    ir = {9: 4, 14: 7, 15: 8}[opset]
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], ir_version=ir,
                              producer_name='tools/interop-fixtures/generate.py')
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])

    folder = os.path.join(ONNX_TESTS, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    onnx.save(model, os.path.join(folder, 'model.onnx'))
    for k in range(data_sets):
        x = (offset + rng.uniform(0.5, 3.0) * rng.standard_normal(shape)).astype(np.float32)
        feeds = {'x': x}
        if params_as_inputs:
            feeds.update(params)
        results = session.run(None, feeds)
        set_dir = os.path.join(folder, f'test_data_set_{k}')
        os.makedirs(set_dir)
        for j, (key, value) in enumerate(feeds.items()):
            with open(os.path.join(set_dir, f'input_{j}.pb'), 'wb') as f:
                f.write(numpy_helper.from_array(value, key).SerializeToString())
        # saved_mean and saved_var (opsets before 14) are engine-defined: not kept as expected outputs
        for j, (key, value) in enumerate(zip(outputs[:3], results[:3])):
            with open(os.path.join(set_dir, f'output_{j}.pb'), 'wb') as f:
                f.write(numpy_helper.from_array(value, key).SerializeToString())
        if training:
            # ONNX's update, checked here so a change in onnxruntime is noticed: biased variance
            axes = tuple(a for a in range(len(shape)) if a != 1)
            mean = x.astype(np.float64).mean(axis=axes)
            var = x.astype(np.float64).var(axis=axes)
            np.testing.assert_allclose(results[1], momentum * params['input_mean'] + (1 - momentum) * mean, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(results[2], momentum * params['input_var'] + (1 - momentum) * var, rtol=1e-5, atol=1e-5)
    print(f'  {name}: opset {opset}, {"training" if training else "inference"}, {list(shape)}')


def generate_onnx_tests():
    os.makedirs(ONNX_TESTS, exist_ok=True)
    for entry in os.listdir(ONNX_TESTS):
        if entry.startswith('test_ort_'):
            shutil.rmtree(os.path.join(ONNX_TESTS, entry))
    print('onnxruntime', ort.__version__, 'training-mode and inference cases:')
    bn_test('test_ort_batchnorm_training_NC_opset15', 15, (16, 4), 0.9, 1e-5, True, False, 1, data_sets=2)
    bn_test('test_ort_batchnorm_training_NCL_opset14', 14, (4, 3, 6), 0.8, 1e-3, True, False, 2)
    bn_test('test_ort_batchnorm_training_NCHW_opset15_inputs', 15, (2, 3, 4, 5), 0.7, 1e-5, True, True, 3)
    bn_test('test_ort_batchnorm_training_NCDHW_opset15_offset', 15, (2, 2, 3, 4, 2), 0.9, 1e-5, True, False, 4, offset=100.0)
    bn_test('test_ort_batchnorm_training_NCHW_opset9', 9, (3, 2, 3, 3), 0.9, 1e-5, True, False, 5)
    bn_test('test_ort_batchnorm_eval_NCHW_opset9_inputs', 9, (2, 3, 3, 4), 0.9, 1e-5, False, True, 6)
    bn_test('test_ort_batchnorm_eval_NCDHW_opset15', 15, (2, 3, 2, 3, 2), 0.9, 1e-3, False, False, 7)


# ----------------------------------------------------------------------------------------------
# PyTorch: BatchNorm1d/2d/3d trained a few steps

PYTORCH_SPECS = [
    # name, module, features, shape, momentum, eps, dtype
    ('bn1d_nc', 'BatchNorm1d', 4, (8, 4), 0.1, 1e-5, torch.float32),
    ('bn1d_ncl_cumulative', 'BatchNorm1d', 3, (4, 3, 5), None, 1e-5, torch.float32),
    ('bn2d', 'BatchNorm2d', 3, (4, 3, 5, 5), 0.3, 1e-3, torch.float32),
    ('bn3d', 'BatchNorm3d', 2, (2, 2, 3, 4, 4), 0.1, 1e-5, torch.float32),
    ('bn2d_f64', 'BatchNorm2d', 3, (2, 3, 4, 4), 0.1, 1e-5, torch.float64),
]


def make_module(kind, features, momentum, eps, dtype):
    return getattr(torch.nn, kind)(features, eps=eps, momentum=momentum).to(dtype)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def generate_pytorch():
    os.makedirs(PYTORCH, exist_ok=True)
    print('torch', torch.__version__, 'BatchNorm fixtures:')
    for index, (name, kind, features, shape, momentum, eps, dtype) in enumerate(PYTORCH_SPECS):
        torch.manual_seed(1000 + index)
        bn = make_module(kind, features, momentum, eps, dtype)
        optimizer = torch.optim.SGD(bn.parameters(), lr=0.05)
        weights = torch.randn(shape, dtype=dtype)
        bn.train()
        for _step in range(5):
            x = 2.0 + 1.5 * torch.randn(shape, dtype=dtype)
            optimizer.zero_grad()
            loss = (bn(x) * weights).sum()
            loss.backward()
            optimizer.step()
        state = {k: v.detach().clone().contiguous() for k, v in bn.state_dict().items()}
        save_file(state, os.path.join(PYTORCH, f'{name}.safetensors'))
        x_eval = 2.0 + 1.5 * torch.randn(shape, dtype=dtype)
        x_train = 2.0 + 1.5 * torch.randn(shape, dtype=dtype)
        bn.eval()
        with torch.no_grad():
            y_eval = bn(x_eval)
            bn.train()
            y_train = bn(x_train)
        fixture = {
            'description': f'torch.nn.{kind}({features}, eps={eps}, momentum={momentum}) in {dtype}, '
                           f'trained 5 SGD steps; {name}.safetensors is its state_dict (safetensors.torch.save_file). '
                           'yEval = module.eval()(xEval); yTrain, runningMean/Var and numBatchesTracked after = '
                           'one more training forward on xTrain from that state.',
            'torch': torch.__version__,
            'module': kind,
            'numFeatures': features,
            'layout': LAYOUT_OF_RANK[len(shape)],
            'shape': list(shape),
            'epsilon': eps,
            'momentum': momentum,
            'dtype': 'F64' if dtype == torch.float64 else 'F32',
            'xEval': flat(x_eval),
            'yEval': flat(y_eval),
            'xTrain': flat(x_train),
            'yTrain': flat(y_train),
            'runningMeanAfter': flat(bn.running_mean),
            'runningVarAfter': flat(bn.running_var),
            'numBatchesTrackedAfter': int(bn.num_batches_tracked),
        }
        with open(os.path.join(PYTORCH, f'{name}.json'), 'w') as f:
            json.dump(fixture, f, indent=1)
            f.write('\n')
        print(f'  {name}: {kind} {list(shape)} momentum {momentum} eps {eps} {fixture["dtype"]}')


# ----------------------------------------------------------------------------------------------
# Our files, checked by the real engines


class Mlp(torch.nn.Module):
    """The MNIST network's module: attributes fc1, bn1, fc2, bn2, fc3, bn3, out (plain: no bn*)."""

    def __init__(self, sizes, batch_norm, eps=1e-5):
        super().__init__()
        self.batch_norm = batch_norm
        for i in range(len(sizes) - 2):
            setattr(self, f'fc{i + 1}', torch.nn.Linear(sizes[i], sizes[i + 1], bias=not batch_norm))
            if batch_norm:
                setattr(self, f'bn{i + 1}', torch.nn.BatchNorm1d(sizes[i + 1], eps=eps))
        self.hidden = len(sizes) - 2
        self.out = torch.nn.Linear(sizes[-2], sizes[-1])

    def forward(self, x):
        for i in range(self.hidden):
            x = getattr(self, f'fc{i + 1}')(x)
            if self.batch_norm:
                x = getattr(self, f'bn{i + 1}')(x)
            x = torch.sigmoid(x)
        return self.out(x)


def check_ours():
    failures = []

    def close(what, got, want, rtol, atol):
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
            worst = float(np.max(np.abs(got - want))) if got.shape == want.shape else float('inf')
            failures.append(f'{what}: max |error| {worst:.3g}')
            print(f'  FAIL {what}: max |error| {worst:.3g}')
        else:
            print(f'  ok   {what}')

    out = tempfile.mkdtemp(prefix='interop-ours-')
    try:
        node = shutil.which('node')
        if node is None:
            raise SystemExit('node is not on PATH')
        subprocess.run([node, os.path.join(HERE, 'export-ours.mjs'), out], check=True)
        with open(os.path.join(out, 'manifest.json')) as f:
            manifest = json.load(f)

        print('our safetensors in PyTorch, load_state_dict(strict=True):')
        for entry in manifest['layers']:
            name = entry['name']
            with open(os.path.join(PYTORCH, f'{name}.json')) as f:
                fixture = json.load(f)
            dtype = torch.float64 if fixture['dtype'] == 'F64' else torch.float32
            # PyTorch's own state after the fixture's extra training step
            theirs = make_module(fixture['module'], fixture['numFeatures'], fixture['momentum'], fixture['epsilon'], dtype)
            theirs.load_state_dict(load_file(os.path.join(PYTORCH, f'{name}.safetensors')), strict=True)
            theirs.train()
            with torch.no_grad():
                theirs(torch.tensor(fixture['xTrain'], dtype=dtype).reshape(fixture['shape']))
            ours = make_module(fixture['module'], fixture['numFeatures'], fixture['momentum'], fixture['epsilon'], dtype)
            loaded = load_file(os.path.join(out, f'{name}.safetensors'))
            ours.load_state_dict(loaded, strict=True)
            for key, value in theirs.state_dict().items():
                if loaded[key].dtype != value.dtype or tuple(loaded[key].shape) != tuple(value.shape):
                    failures.append(f'{name}.{key}: {loaded[key].dtype} {tuple(loaded[key].shape)} vs {value.dtype} {tuple(value.shape)}')
                    print(f'  FAIL {name}.{key} dtype/shape')
                    continue
                if key == 'num_batches_tracked':
                    if int(loaded[key]) != int(value):
                        failures.append(f'{name}.{key}: {int(loaded[key])} vs {int(value)}')
                    continue
                tol = 1e-12 if dtype == torch.float64 else 2e-6
                close(f'{name}.{key} (ours after one step vs PyTorch after one step)', loaded[key], value, tol, tol)
            ours.eval()
            with torch.no_grad():
                y = ours(torch.tensor(fixture['xEval'], dtype=dtype).reshape(fixture['shape']))
            tol = 1e-10 if dtype == torch.float64 else 1e-5
            close(f'{name} eval in PyTorch with our state vs our eval', y.reshape(-1), entry['yEval'], tol, tol)

        model = manifest['model']
        modules = torch.nn.Module()
        modules.features = torch.nn.Sequential(torch.nn.BatchNorm2d(3))
        modules.head = torch.nn.BatchNorm1d(4)
        modules.load_state_dict(load_file(os.path.join(out, model['file'])), strict=True)
        print(f'  ok   {model["file"]}: a model\'s layers by prefix ({", ".join(model["prefixes"])})')

        print('our MLP exports (the MNIST network) in PyTorch and onnxruntime:')
        for mlp in manifest['mlps']:
            x = np.asarray(mlp['x'], dtype=np.float32).reshape(mlp['xShape'])
            module = Mlp(mlp['sizes'], mlp['variant'] == 'bn')
            module.load_state_dict(load_file(os.path.join(out, mlp['safetensors'])), strict=True)
            module.eval()
            with torch.no_grad():
                y = module(torch.from_numpy(x)).numpy()
            close(f'{mlp["safetensors"]} in PyTorch vs our logits', y.reshape(-1), mlp['logits'], 1e-4, 1e-4)
            for onnx_file in mlp['onnx']:
                m = onnx.load(os.path.join(out, onnx_file))
                onnx.checker.check_model(m, full_check=True)
                session = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
                (logits,) = session.run(['logits'], {'x': x})
                close(f'{onnx_file} (onnx.checker full_check) in onnxruntime vs our logits', logits.reshape(-1), mlp['logits'], 1e-4, 1e-4)

        print('our BatchNormalization models through onnx.checker (full_check) and onnxruntime:')
        for entry in manifest['onnx']:
            m = onnx.load(os.path.join(out, entry['file']))
            onnx.checker.check_model(m, full_check=True)
            session = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
            feeds = {'x': np.asarray(entry['x'], dtype=np.float32).reshape(entry['shape'])}
            for key, value in entry.get('feeds', {}).items():
                feeds[key] = np.asarray(value, dtype=np.float32)
            results = session.run(None, feeds)
            close(f'{entry["file"]} y', results[0].reshape(-1), entry['y'], 1e-4, 1e-5)
            if 'runningMean' in entry:
                close(f'{entry["file"]} running_mean', results[1], entry['runningMean'], 1e-4, 1e-5)
                close(f'{entry["file"]} running_var', results[2], entry['runningVar'], 1e-4, 1e-5)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if failures:
        print(f'{len(failures)} mismatches', file=sys.stderr)
        raise SystemExit(1)
    print('round trip: every file of ours matches PyTorch and onnxruntime')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true', help='only check our files against the engines')
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    if not args.check:
        generate_onnx_tests()
        generate_pytorch()
    check_ours()


if __name__ == '__main__':
    main()

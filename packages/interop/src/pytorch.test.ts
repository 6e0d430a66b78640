import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchNorm, createReferenceBackend, type BatchNormState } from '@batchnorm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, testBackends, toleranceRatio } from './__tests__/helpers.js';
import { loadBatchNorm, loadBatchNormLayers, saveBatchNorm } from './node.js';
import { batchNormTensors, encodeBatchNormSafetensors } from './pytorch.js';
import { batchNormPrefixes, batchNormStateFromSafetensors, decodeBatchNormSafetensors } from './pytorchDecode.js';
import { decodeSafetensors, safetensorsValues } from './safetensors.js';
import { encodeSafetensors } from './safetensorsEncode.js';

const state = (overrides: Partial<BatchNormState> = {}): BatchNormState => ({
  schema: 'batchnorm-state/1',
  numFeatures: 3,
  layout: 'NCHW',
  epsilon: 1e-3,
  momentum: 0.2,
  varianceCorrection: 'unbiased',
  gamma: [1.1, 0.9, 1.3],
  beta: [0.1, -0.2, 0.3],
  runningMean: [0.5, -1.5, 2.25],
  runningVar: [0.75, 1.5, 3.125],
  numBatchesTracked: 17,
  ...overrides,
});

describe('BatchNorm state under PyTorch names', () => {
  it('writes <prefix>weight, bias, running_mean, running_var (F32) and num_batches_tracked (I64, shape [])', () => {
    const file = decodeSafetensors(encodeBatchNormSafetensors({ 'bn1.': state() }));
    expect(Object.fromEntries([...file.tensors].map(([k, t]) => [k, `${t.dtype} [${t.shape.join(',')}]`]))).toEqual({
      'bn1.weight': 'F32 [3]',
      'bn1.bias': 'F32 [3]',
      'bn1.running_mean': 'F32 [3]',
      'bn1.running_var': 'F32 [3]',
      'bn1.num_batches_tracked': 'I64 []',
    });
    expect(safetensorsValues(file.tensors.get('bn1.num_batches_tracked')!)).toEqual(BigInt64Array.of(17n));
    expect(JSON.parse(file.metadata['batchnorm:bn1.']!)).toEqual({
      layout: 'NCHW',
      epsilon: 1e-3,
      momentum: 0.2,
      varianceCorrection: 'unbiased',
      runningVar: 'unbiased',
    });
  });

  it('round-trips a state exactly in F64, including the settings PyTorch does not keep', () => {
    const s = state({ gamma: [Math.PI, 1 / 3, 1e-7], momentum: null });
    const back = decodeBatchNormSafetensors(encodeBatchNormSafetensors({ '': s }, { dtype: 'F64' }));
    expect(back).toEqual({ '': s });
  });

  it('F32 rounds the values to float32', () => {
    const back = decodeBatchNormSafetensors(encodeBatchNormSafetensors({ 'a.': state({ gamma: [0.1, 0.2, 0.3] }) }))['a.']!;
    expect(back.gamma).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });

  it('a biased layer must say how its running variance becomes PyTorch\'s unbiased one', () => {
    const biased = state({ varianceCorrection: 'biased' });
    expect(() => batchNormTensors(biased, 'bn.')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: 'options.biasedRunningVar' }));
    // { batchSize: m }: the file holds m/(m−1)·var, and reads back to the biased state exactly
    const bytes = encodeBatchNormSafetensors({ 'bn.': biased }, { dtype: 'F64', biasedRunningVar: { batchSize: 5 } });
    const file = decodeSafetensors(bytes);
    expect(Array.from(safetensorsValues(file.tensors.get('bn.running_var')!) as Float64Array)).toEqual(biased.runningVar.map((v) => (v * 5) / 4));
    const back = batchNormStateFromSafetensors(file, 'bn.');
    back.runningVar.forEach((v, k) => expect(v).toBeCloseTo(biased.runningVar[k]!, 14));
    expect(back.varianceCorrection).toBe('biased');
    // read as PyTorch would: an unbiased layer with the file's values
    expect(batchNormStateFromSafetensors(file, 'bn.', { varianceCorrection: 'unbiased' }).runningVar).toEqual(biased.runningVar.map((v) => (v * 5) / 4));
    // 'as-is': the biased values, so eval outputs agree
    const asIs = decodeSafetensors(encodeBatchNormSafetensors({ 'bn.': biased }, { dtype: 'F64', biasedRunningVar: 'as-is' }));
    expect(Array.from(safetensorsValues(asIs.tensors.get('bn.running_var')!) as Float64Array)).toEqual(biased.runningVar);
    expect(batchNormStateFromSafetensors(asIs, 'bn.')).toEqual(biased);
  });

  it('reads a PyTorch file without our metadata with PyTorch\'s settings, or the ones given', () => {
    const plain = decodeSafetensors(encodeSafetensors({ tensors: batchNormTensors(state(), 'bn.').tensors }));
    expect(batchNormStateFromSafetensors(plain, 'bn.')).toMatchObject({ layout: 'NC', epsilon: 1e-5, momentum: 0.1, varianceCorrection: 'unbiased' });
    expect(batchNormStateFromSafetensors(plain, 'bn.', { layout: 'NCHW', epsilon: 1e-3, momentum: null })).toMatchObject({
      layout: 'NCHW',
      epsilon: 1e-3,
      momentum: null,
    });
    // a biased layer from an unbiased file needs the batch size
    expect(() => batchNormStateFromSafetensors(plain, 'bn.', { varianceCorrection: 'biased' })).toThrow(expect.objectContaining({ argument: 'options.batchSize' }));
  });

  it('affine=False (no weight, bias) gives γ = 1, β = 0; no num_batches_tracked (old checkpoints) gives 0', () => {
    const { tensors } = batchNormTensors(state(), '');
    const file = decodeSafetensors(encodeSafetensors({ tensors: { running_mean: tensors['running_mean']!, running_var: tensors['running_var']! } }));
    expect(batchNormStateFromSafetensors(file)).toMatchObject({ gamma: [1, 1, 1], beta: [0, 0, 0], numBatchesTracked: 0 });
  });

  it('rejects missing, misshapen or mistyped tensors, naming them', () => {
    const { tensors } = batchNormTensors(state(), 'bn.');
    const without = (name: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k !== name));
    const read = (t: object) => () => batchNormStateFromSafetensors(decodeSafetensors(encodeSafetensors({ tensors: t as never })), 'bn.', {}, 'm.safetensors');
    expect(read(without('bn.running_var'))).toThrow(expect.objectContaining({ tensor: 'bn.running_var', file: 'm.safetensors' }));
    expect(read(without('bn.bias'))).toThrow(expect.objectContaining({ tensor: 'bn.bias' }));
    expect(read({ ...tensors, 'bn.weight': { dtype: 'F32', shape: [4], data: [1, 1, 1, 1] } })).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', tensor: 'bn.weight', field: 'shape' }),
    );
    expect(read({ ...tensors, 'bn.weight': { dtype: 'I32', shape: [3], data: [1, 1, 1] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', tensor: 'bn.weight', field: 'dtype' }),
    );
    expect(read({ ...tensors, 'bn.num_batches_tracked': { dtype: 'F32', shape: [], data: [3] } })).toThrow(
      expect.objectContaining({ tensor: 'bn.num_batches_tracked', field: 'dtype', expected: 'I64' }),
    );
    expect(read({ ...tensors, 'bn.running_var': { dtype: 'F32', shape: [3], data: [1, -1, 1] } })).toThrow(
      expect.objectContaining({ tensor: 'bn.running_var', field: 'values[1]' }),
    );
    expect(() => batchNormTensors(state(), 'bn')).toThrow(expect.objectContaining({ argument: 'prefix' }));
  });

  it('a model\'s layers by prefix; other tensors are ignored', () => {
    const bytes = encodeSafetensors({
      tensors: {
        'fc1.weight': { dtype: 'F32', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] },
        ...batchNormTensors(state(), 'bn1.').tensors,
        ...batchNormTensors(state({ numFeatures: 2, gamma: [1, 2], beta: [0, 0], runningMean: [0, 0], runningVar: [1, 1] }), 'block.0.bn.').tensors,
      },
    });
    expect(batchNormPrefixes(decodeSafetensors(bytes))).toEqual(['bn1.', 'block.0.bn.']);
    const layers = decodeBatchNormSafetensors(bytes, { layers: { 'bn1.': { layout: 'NCHW' } } });
    expect(Object.keys(layers)).toEqual(['bn1.', 'block.0.bn.']);
    expect(layers['bn1.']!.layout).toBe('NCHW');
    expect(layers['block.0.bn.']!.gamma).toEqual([1, 2]);
    expect(() => decodeBatchNormSafetensors(bytes, { layers: { 'bn9.': {} } })).toThrow(expect.objectContaining({ argument: 'options.layers["bn9."]' }));
  });
});

describe('saveBatchNorm / loadBatchNorm (./node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'interop-bn-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves a trained layer and loads it on another backend with the same eval outputs', async () => {
    const reference = createReferenceBackend();
    const layer = new BatchNorm(reference, { numFeatures: 2, layout: 'NCL', momentum: 0.3 });
    const shape = [4, 2, 3];
    const x = reference.upload(Float64Array.from({ length: 24 }, (_, i) => 5 + Math.sin(i) * 2), shape);
    reference.dispose(layer.forward(x));
    layer.eval();
    const want = await reference.read(layer.forward(x));
    const path = join(dir, 'layer.safetensors');
    await saveBatchNorm(path, layer, { dtype: 'F64' });
    for (const { backend, destroy } of testBackends()) {
      const loaded = await loadBatchNorm(path, backend);
      expect(loaded.layout).toBe('NCL');
      expect(loaded.momentum).toBe(0.3);
      expect(loaded.numBatchesTracked).toBe(1);
      loaded.eval();
      const xt = backend.upload(backend.dtype === 'float64' ? Float64Array.from(await reference.read(x)) : Float32Array.from(await reference.read(x)), shape);
      const got = await backend.read(loaded.forward(xt));
      expect(toleranceRatio(got, want, 1e-6, 1e-6)).toBeLessThan(1);
      loaded.dispose();
      destroy();
    }
  });

  it('saves a model\'s layers by prefix and loads them all', async () => {
    const backend = createReferenceBackend();
    const path = join(dir, 'model.safetensors');
    await saveBatchNorm(path, { 'bn1.': new BatchNorm(backend, { numFeatures: 4 }), 'bn2.': state() });
    const layers = await loadBatchNormLayers(path, backend);
    expect(Object.keys(layers)).toEqual(['bn1.', 'bn2.']);
    expect(layers['bn2.']!.layout).toBe('NCHW');
    expect(readFileSync(path).length).toBeGreaterThan(0);
    await expect(loadBatchNorm(path, backend, { prefix: 'bn3.' })).rejects.toMatchObject({ file: path, tensor: 'bn3.running_mean' });
  });
});

describe('PyTorch fixtures (tools/interop-fixtures/generate.py, torch 2.13)', () => {
  const names = ['bn1d_nc', 'bn1d_ncl_cumulative', 'bn2d', 'bn3d', 'bn2d_f64'];
  interface Fixture {
    layout: BatchNormState['layout'];
    shape: number[];
    epsilon: number;
    momentum: number | null;
    dtype: 'F32' | 'F64';
    xEval: number[];
    yEval: number[];
    xTrain: number[];
    yTrain: number[];
    runningMeanAfter: number[];
    runningVarAfter: number[];
    numBatchesTrackedAfter: number;
  }
  for (const { name: backendName, backend, destroy } of testBackends()) {
    describe(`on ${backendName}`, () => {
      afterAll(destroy);
      for (const name of names) {
        it(`${name}: PyTorch's state loads; eval and one training step match PyTorch`, async () => {
          const fixture = JSON.parse(readFileSync(join(FIXTURES, 'pytorch', `${name}.json`), 'utf8')) as Fixture;
          const layer = await loadBatchNorm(join(FIXTURES, 'pytorch', `${name}.safetensors`), backend, {
            layout: fixture.layout,
            epsilon: fixture.epsilon,
            momentum: fixture.momentum,
          });
          // PyTorch computed in float32 (or float64): tolerances of that precision, chosen before running
          const exact = fixture.dtype === 'F64' && backend.dtype === 'float64';
          const [atol, rtol] = exact ? [1e-12, 1e-12] : [1e-5, 1e-5];
          const upload = (values: number[]) => backend.upload(backend.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), fixture.shape);
          layer.eval();
          const xEval = upload(fixture.xEval);
          expect(toleranceRatio(await backend.read(layer.forward(xEval)), fixture.yEval, atol, rtol)).toBeLessThan(1);
          layer.train();
          const xTrain = upload(fixture.xTrain);
          expect(toleranceRatio(await backend.read(layer.forward(xTrain)), fixture.yTrain, atol, rtol)).toBeLessThan(1);
          const after = await layer.state();
          expect(toleranceRatio(after.runningMean, fixture.runningMeanAfter, atol, rtol)).toBeLessThan(1);
          expect(toleranceRatio(after.runningVar, fixture.runningVarAfter, atol, rtol)).toBeLessThan(1);
          expect(after.numBatchesTracked).toBe(fixture.numBatchesTrackedAfter);
          layer.dispose();
        });
      }
    });
  }
});

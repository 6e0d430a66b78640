import { BatchNorm, LAYOUTS, type Backend, type BatchNormState, type Layout } from '@batchnorm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runOrt, testBackends, toleranceRatio } from '../__tests__/helpers.js';
import { mlpSafetensors, type MlpLayer, type MlpModel } from '../mlp.js';
import { decodeSafetensors, safetensorsValues } from '../safetensors.js';
import { encodeSafetensors } from '../safetensorsEncode.js';
import { readOnnxBatchNorms, onnxBatchNormState } from './batchNorm.js';
import { checkOnnxModel, onnxModelProblems } from './check.js';
import { decodeOnnxModel } from './decode.js';
import { encodeOnnxModel } from './encode.js';
import type { OnnxModel } from './model.js';
import { batchNormOnnxModel, encodeBatchNormOnnx } from './write.js';
import { encodeMlpOnnx, mlpOnnxModel } from './writeMlp.js';

const SHAPES: Record<Layout, number[]> = {
  NC: [7, 3],
  NCL: [3, 3, 4],
  NLC: [3, 4, 3],
  NCHW: [2, 3, 3, 2],
  NHWC: [2, 3, 2, 3],
  NCDHW: [2, 3, 2, 2, 2],
  NDHWC: [2, 2, 2, 2, 3],
};

function stateFor(layout: Layout, varianceCorrection: 'biased' | 'unbiased' = 'unbiased'): BatchNormState {
  return {
    schema: 'batchnorm-state/1',
    numFeatures: 3,
    layout,
    epsilon: 1e-3,
    momentum: 0.25,
    varianceCorrection,
    gamma: [1.25, 0.5, 0.75],
    beta: [0.5, -0.25, 0],
    runningMean: [3.5, 2.5, 3],
    runningVar: [0.5, 2, 1.25],
    numBatchesTracked: 0,
  };
}

const xFor = (shape: number[]) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => 3 + 2 * Math.sin(i * 0.9));

async function ours(backend: Backend, state: BatchNormState, x: number[], shape: number[], training: boolean) {
  const layer = BatchNorm.fromState(backend, state);
  if (!training) layer.eval();
  const xt = backend.upload(backend.dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x), shape);
  const yt = layer.forward(xt);
  const y = await backend.read(yt);
  const after = await layer.state();
  backend.dispose(yt);
  backend.dispose(xt);
  layer.dispose();
  return { y, runningMean: after.runningMean, runningVar: after.runningVar };
}

describe('BN layer → ONNX model, run by onnxruntime-node 1.30 against our layer', () => {
  const backends = testBackends();
  afterAll(() => backends.forEach((b) => b.destroy()));
  // onnxruntime computes in float32: these bound float32 rounding of O(1) values
  const [atol, rtol] = [1e-5, 1e-5];

  for (const layout of LAYOUTS) {
    it(`${layout}: inference (opsets 9 and 15) equals the layer in eval mode`, async () => {
      const shape = SHAPES[layout];
      const x = xFor(shape);
      const state = stateFor(layout);
      for (const opset of [9, 15]) {
        const { y } = await runOrt(encodeBatchNormOnnx(state, { opset, shape }), { x: { data: x, dims: shape } });
        for (const { backend } of backends) {
          const want = await ours(backend, state, x, shape, false);
          expect(toleranceRatio(y!, want.y, atol, rtol), `${backend.name} opset ${opset}`).toBeLessThan(1);
        }
      }
    });

    it(`${layout}: training mode (opset 15, parameters as graph inputs) equals a biased layer's training step`, async () => {
      const shape = SHAPES[layout];
      const x = xFor(shape);
      const state = stateFor(layout, 'biased');
      const model = encodeBatchNormOnnx(state, { trainingMode: true, parameters: 'inputs', shape: [...shape] });
      const got = await runOrt(model, {
        x: { data: x, dims: shape },
        scale: { data: state.gamma, dims: [3] },
        B: { data: state.beta, dims: [3] },
        input_mean: { data: state.runningMean, dims: [3] },
        input_var: { data: state.runningVar, dims: [3] },
      });
      for (const { backend } of backends) {
        const want = await ours(backend, state, x, shape, true);
        expect(toleranceRatio(got['y']!, want.y, atol, rtol)).toBeLessThan(1);
        expect(toleranceRatio(got['running_mean']!, want.runningMean, atol, rtol)).toBeLessThan(1);
        expect(toleranceRatio(got['running_var']!, want.runningVar, atol, rtol)).toBeLessThan(1);
      }
    });
  }

  it('the model has a dynamic batch by default and reads back as the same layer', async () => {
    const state = stateFor('NCHW');
    const model = batchNormOnnxModel(state);
    expect(model.graph.inputs[0]!.shape).toEqual(['N', 3, 'H', 'W']);
    const { y } = await runOrt(encodeOnnxModel(model), { x: { data: xFor([5, 3, 1, 2]), dims: [5, 3, 1, 2] } });
    expect(y!.length).toBe(30);
    const [bn] = readOnnxBatchNorms(encodeOnnxModel(model));
    // inference keeps our correction unknown to ONNX: read back, the values are the same
    expect(onnxBatchNormState(bn!)).toEqual({
      ...state,
      varianceCorrection: 'biased',
      gamma: state.gamma.map(Math.fround),
      beta: state.beta.map(Math.fround),
      runningMean: state.runningMean.map(Math.fround),
      runningVar: state.runningVar.map(Math.fround),
    });
  });

  it('refuses what ONNX cannot express', () => {
    expect(() => encodeBatchNormOnnx(stateFor('NC'), { trainingMode: true })).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'state.varianceCorrection' }));
    expect(() => encodeBatchNormOnnx(stateFor('NC', 'biased'), { trainingMode: true, opset: 13 })).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'options.opset' }));
    expect(() => encodeBatchNormOnnx(stateFor('NC'), { opset: 8 })).toThrow(expect.objectContaining({ argument: 'options.opset' }));
    expect(() => encodeBatchNormOnnx(stateFor('NCHW'), { shape: [2, 4, 1, 1] })).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', argument: 'options.shape' }));
  });
});

describe('checkOnnxModel (what onnx.checker checks, for the operators we write)', () => {
  const good = batchNormOnnxModel(stateFor('NHWC', 'biased'), { trainingMode: true });

  it('passes what the writers emit, and ONNX\'s own and onnxruntime\'s test models', () => {
    expect(onnxModelProblems(good)).toEqual([]);
    expect(onnxModelProblems(decodeOnnxModel(encodeOnnxModel(good)))).toEqual([]);
  });

  const broken: [string, (m: OnnxModel) => OnnxModel, string][] = [
    ['an IR version out of range', (m) => ({ ...m, irVersion: 99 }), 'ir_version 99'],
    ['no default-domain opset', (m) => ({ ...m, opsetImports: [] }), 'opset_import has 0 entries'],
    ['an unnamed graph', (m) => ({ ...m, graph: { ...m.graph, name: '' } }), 'graph.name is empty'],
    ['a name defined twice', (m) => ({ ...m, graph: { ...m.graph, nodes: m.graph.nodes.map((n, i) => (i === 0 ? { ...n, outputs: ['x'] } : n)) } }), 'defined twice'],
    ['nodes out of order', (m) => ({ ...m, graph: { ...m.graph, nodes: [...m.graph.nodes].reverse() } }), 'is not defined before it'],
    ['an unknown operator', (m) => ({ ...m, graph: { ...m.graph, nodes: m.graph.nodes.map((n) => (n.opType === 'Transpose' ? { ...n, opType: 'Transposed' } : n)) } }), 'no such operator'],
    ['an unknown attribute', (m) => ({ ...m, graph: { ...m.graph, nodes: m.graph.nodes.map((n) => (n.opType === 'BatchNormalization' ? { ...n, attributes: [...n.attributes, { name: 'spatial', type: 2, i: 1 }] } : n)) } }), 'unknown attribute "spatial"'],
    ['a wrong output count for training_mode', (m) => ({ ...m, graph: { ...m.graph, nodes: m.graph.nodes.map((n) => (n.opType === 'BatchNormalization' ? { ...n, attributes: n.attributes.filter((a) => a.name !== 'training_mode') } : n)) } }), '3 outputs with training_mode = 0'],
    ['an output without a shape', (m) => ({ ...m, graph: { ...m.graph, outputs: m.graph.outputs.map((o) => ({ name: o.name, elemType: 1 })) } }), 'has no shape'],
    ['an output nobody produces', (m) => ({ ...m, graph: { ...m.graph, outputs: [...m.graph.outputs, { name: 'z', elemType: 1, shape: [1] }] } }), 'produced by no node'],
    ['a parameter of the wrong length', (m) => ({ ...m, graph: { ...m.graph, initializers: m.graph.initializers.map((t) => (t.name === 'B' ? { ...t, dims: [4], values: new Float32Array(4) } : t)) } }), 'X has 3 channels'],
    ['a bad perm', (m) => ({ ...m, graph: { ...m.graph, nodes: m.graph.nodes.map((n) => (n.opType === 'Transpose' ? { ...n, attributes: [{ name: 'perm', type: 7, ints: [0, 0, 1, 2] }] } : n)) } }), 'not a permutation'],
    ['a declared output shape that contradicts the graph', (m) => ({ ...m, graph: { ...m.graph, outputs: m.graph.outputs.map((o) => (o.name === 'running_mean' ? { ...o, shape: [4] } : o)) } }), 'declared [4] but inferred [3]'],
    ['an initializer not among the inputs before IR 4', (m) => ({ ...m, irVersion: 3 }), 'not a graph input'],
  ];
  for (const [what, change, problem] of broken) {
    it(`finds ${what}`, () => {
      const problems = onnxModelProblems(change(good));
      expect(problems.join('\n')).toContain(problem);
      expect(() => checkOnnxModel(change(good), 'm.onnx')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', file: 'm.onnx', field: 'model' }));
    });
  }
});

/** A small MLP like the MNIST app's: weights [in, out], BN (bias dropped) or biases, sigmoids. */
function mlp(variant: 'bn' | 'plain', sizes = [12, 6, 5, 4]): MlpModel {
  let seed = variant === 'bn' ? 3 : 4;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [n, m] = [sizes[l]!, sizes[l + 1]!];
    const hidden = l + 2 < sizes.length;
    const base = { name: hidden ? `fc${l + 1}` : 'out', inFeatures: n, outFeatures: m, weight: Array.from({ length: n * m }, () => rand() - 0.5), weightLayout: 'inOut' as const };
    if (variant === 'bn' && hidden) {
      layers.push({
        ...base,
        batchNorm: {
          name: `bn${l + 1}`,
          state: { ...stateFor('NC'), numFeatures: m, epsilon: 1e-5, momentum: null, gamma: Array.from({ length: m }, () => 0.5 + rand()), beta: Array.from({ length: m }, () => rand() - 0.5), runningMean: Array.from({ length: m }, () => rand() - 0.5), runningVar: Array.from({ length: m }, () => 0.1 + rand()), numBatchesTracked: 9 },
        },
        activation: 'sigmoid',
      });
    } else {
      layers.push({ ...base, bias: Array.from({ length: m }, () => rand() - 0.5), ...(hidden ? { activation: 'sigmoid' as const } : {}) });
    }
  }
  return { layers };
}

/** The MLP's logits through core's kernels and the BatchNorm layer in eval mode. */
async function mlpLogits(backend: Backend, model: MlpModel, x: number[], batch: number): Promise<Float32Array | Float64Array> {
  const data = (v: ArrayLike<number>) => (backend.dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v));
  let h = backend.upload(data(x), [batch, model.layers[0]!.inFeatures]);
  for (const layer of model.layers) {
    const w = backend.upload(data(layer.weight), [layer.inFeatures, layer.outFeatures]);
    let z = backend.matMul(h, w);
    for (const t of [w, h]) backend.dispose(t);
    if (layer.bias !== undefined) {
      const b = backend.upload(data(layer.bias), [layer.outFeatures]);
      const zb = backend.addBias(z, b);
      for (const t of [b, z]) backend.dispose(t);
      z = zb;
    }
    if (layer.batchNorm !== undefined) {
      const bn = BatchNorm.fromState(backend, layer.batchNorm.state).eval();
      const s = bn.forward(z);
      bn.dispose();
      backend.dispose(z);
      z = s;
    }
    h = layer.activation === 'sigmoid' ? backend.sigmoid(z) : z;
    if (h !== z) backend.dispose(z);
  }
  const out = await backend.read(h);
  backend.dispose(h);
  return out;
}

describe('MLP → ONNX (the MNIST network) and safetensors', () => {
  const backends = testBackends();
  afterAll(() => backends.forEach((b) => b.destroy()));
  const batch = 4;
  const x = Array.from({ length: batch * 12 }, (_, i) => ((i * 37) % 256) / 255);

  for (const variant of ['bn', 'plain'] as const) {
    for (const linear of ['gemm', 'matmul'] as const) {
      it(`${variant}, ${linear}: onnxruntime's logits equal ours on every backend`, async () => {
        const model = mlp(variant);
        const onnx = mlpOnnxModel(model, { linear });
        expect(onnx.graph.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 12] }]);
        expect(onnx.graph.outputs).toEqual([{ name: 'logits', elemType: 1, shape: ['batch', 4] }]);
        expect(onnx.graph.nodes.map((n) => n.opType)).toEqual(
          variant === 'bn'
            ? linear === 'gemm'
              ? ['Gemm', 'BatchNormalization', 'Sigmoid', 'Gemm', 'BatchNormalization', 'Sigmoid', 'Gemm']
              : ['MatMul', 'BatchNormalization', 'Sigmoid', 'MatMul', 'BatchNormalization', 'Sigmoid', 'MatMul', 'Add']
            : linear === 'gemm'
              ? ['Gemm', 'Sigmoid', 'Gemm', 'Sigmoid', 'Gemm']
              : ['MatMul', 'Add', 'Sigmoid', 'MatMul', 'Add', 'Sigmoid', 'MatMul', 'Add'],
        );
        const { logits } = await runOrt(encodeMlpOnnx(model, { linear }), { x: { data: x, dims: [batch, 12] } });
        for (const { backend } of backends) {
          expect(toleranceRatio(logits!, await mlpLogits(backend, model, x, batch), 1e-5, 1e-5)).toBeLessThan(1);
        }
      });
    }
  }

  it('safetensors under the PyTorch module\'s names: Linear weights [out, in], BN buffers, no bias before a BN', () => {
    const model = mlp('bn');
    const file = decodeSafetensors(encodeSafetensors(mlpSafetensors(model)));
    expect(Object.fromEntries([...file.tensors].map(([k, t]) => [k, `${t.dtype} [${t.shape.join(',')}]`]))).toEqual({
      'fc1.weight': 'F32 [6,12]',
      'fc2.weight': 'F32 [5,6]',
      'out.weight': 'F32 [4,5]',
      'out.bias': 'F32 [4]',
      'bn1.weight': 'F32 [6]',
      'bn1.bias': 'F32 [6]',
      'bn1.running_mean': 'F32 [6]',
      'bn1.running_var': 'F32 [6]',
      'bn1.num_batches_tracked': 'I64 []',
      'bn2.weight': 'F32 [5]',
      'bn2.bias': 'F32 [5]',
      'bn2.running_mean': 'F32 [5]',
      'bn2.running_var': 'F32 [5]',
      'bn2.num_batches_tracked': 'I64 []',
    });
    // [out, in]: row o of fc1.weight is column o of the [in, out] weights
    const w = safetensorsValues(file.tensors.get('fc1.weight')!) as Float32Array;
    const source = model.layers[0]!.weight;
    expect(w[1 * 12 + 2]).toBe(Math.fround(source[2 * 6 + 1]!));
  });

  it('rejects an MLP whose sizes do not chain, naming the layer', () => {
    const model = mlp('plain');
    const broken = { layers: [model.layers[0]!, { ...model.layers[1]!, inFeatures: 7, weight: new Array(35).fill(0) }] };
    expect(() => mlpOnnxModel(broken)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', argument: 'model.layers[1].inFeatures' }));
    expect(() => mlpOnnxModel({ layers: [{ ...model.layers[0]!, weight: [1, 2] }] })).toThrow(expect.objectContaining({ argument: 'model.layers[0].weight' }));
    expect(() => mlpOnnxModel({ layers: [{ ...model.layers[0]!, name: 'fc 1' }] })).toThrow(expect.objectContaining({ argument: 'model.layers[0].name' }));
  });

  it('the MLP model reads back: its BN nodes with their statistics', () => {
    const model = mlp('bn');
    const onnx = decodeOnnxModel(encodeMlpOnnx(model));
    const bns = readOnnxBatchNorms(onnx);
    expect(bns.map((b) => b.name)).toEqual(['bn1', 'bn2']);
    expect(onnxBatchNormState(bns[0]!, { layout: 'NC' }).runningVar).toEqual(model.layers[0]!.batchNorm!.state.runningVar.map(Math.fround));
  });
});

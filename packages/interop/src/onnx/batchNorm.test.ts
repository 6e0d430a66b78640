import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../__tests__/helpers.js';
import { onnxBatchNormState, readOnnxBatchNorms } from './batchNorm.js';
import { decodeOnnxModel } from './decode.js';
import { ONNX_FLOAT, type OnnxModel, type OnnxNode } from './model.js';
import { decodeOnnxTensor } from './tensor.js';

const model = (test: string) => decodeOnnxModel(new Uint8Array(readFileSync(join(FIXTURES, 'onnx-tests', test, 'model.onnx'))));

function withNode(base: OnnxModel, change: (node: OnnxNode) => OnnxNode, opset?: number): OnnxModel {
  return {
    ...base,
    ...(opset === undefined ? {} : { opsetImports: [{ domain: '', version: opset }] }),
    graph: { ...base.graph, nodes: base.graph.nodes.map(change) },
  };
}

describe('readOnnxBatchNorms', () => {
  it('opset 6 (PyTorch 0.3 export): inference by is_test, parameters as initializers, X\'s shape', () => {
    const [bn] = readOnnxBatchNorms(model('test_BatchNorm2d_momentum_eval'));
    expect(bn).toMatchObject({ name: '#0', opset: 6, schemaVersion: 6, trainingMode: false, inputs: { x: '0' }, outputs: { y: '5' }, xShape: [2, 3, 6, 6] });
    expect(bn!.momentum).toBe(Math.fround(0.2));
    expect(bn!.epsilon).toBe(Math.fround(1e-3));
    expect(Array.from(bn!.parameters.scale!)).toEqual([0.53243315, 0.7461093, 0.76457745].map(Math.fround));
    const state = onnxBatchNormState(bn!);
    expect(state).toMatchObject({ layout: 'NCHW', numFeatures: 3, epsilon: 1e-3, momentum: 0.8, varianceCorrection: 'biased' });
  });

  it('opsets 9, 14 and 15 in training mode, with running-statistics outputs', () => {
    const opset9 = readOnnxBatchNorms(model('test_ort_batchnorm_training_NCHW_opset9'))[0]!;
    expect(opset9).toMatchObject({ opset: 9, schemaVersion: 9, trainingMode: true, outputs: { y: 'y', runningMean: 'running_mean', runningVar: 'running_var', savedMean: 'saved_mean', savedVar: 'saved_var' } });
    const opset14 = readOnnxBatchNorms(model('test_ort_batchnorm_training_NCL_opset14'))[0]!;
    expect(opset14).toMatchObject({ opset: 14, schemaVersion: 14, trainingMode: true, outputs: { runningMean: 'running_mean', runningVar: 'running_var' } });
    expect(onnxBatchNormState(opset14)).toMatchObject({ layout: 'NCL', momentum: 0.2, epsilon: 1e-3 });
    expect(readOnnxBatchNorms(model('test_ort_batchnorm_training_NC_opset15'))[0]).toMatchObject({ schemaVersion: 15, trainingMode: true });
    expect(readOnnxBatchNorms(model('test_ort_batchnorm_eval_NCDHW_opset15'))[0]).toMatchObject({ schemaVersion: 15, trainingMode: false });
  });

  it('parameters as graph inputs: absent until fed, then read from the feeds', () => {
    const test = 'test_ort_batchnorm_training_NCHW_opset15_inputs';
    const [bare] = readOnnxBatchNorms(model(test));
    expect(bare!.parameters).toEqual({});
    expect(() => onnxBatchNormState(bare!)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'input "scale"' }));
    const feeds = Object.fromEntries(
      [1, 2, 3, 4].map((j) => {
        const t = decodeOnnxTensor(new Uint8Array(readFileSync(join(FIXTURES, 'onnx-tests', test, 'test_data_set_0', `input_${j}.pb`))));
        return [t.name, t];
      }),
    );
    const [fed] = readOnnxBatchNorms(model(test), { feeds });
    expect(Object.keys(fed!.parameters).sort()).toEqual(['bias', 'mean', 'scale', 'variance']);
    expect(onnxBatchNormState(fed!).runningVar).toEqual(Array.from(feeds['input_var']!.values as Float32Array));
  });

  it('rejects nodes that break the schema, naming the node and field', () => {
    const base = model('test_ort_batchnorm_training_NCL_opset14');
    const read = (m: OnnxModel) => () => readOnnxBatchNorms(m, { source: 'm.onnx' });
    expect(read(withNode(base, (n) => ({ ...n, inputs: n.inputs.slice(0, 4) })))).toThrow(expect.objectContaining({ file: 'm.onnx', tensor: 'bn', field: 'input' }));
    expect(read(withNode(base, (n) => ({ ...n, outputs: n.outputs.slice(0, 2) })))).toThrow(expect.objectContaining({ field: 'output' }));
    expect(read(withNode(base, (n) => ({ ...n, attributes: n.attributes.map((a) => (a.name === 'training_mode' ? { ...a, i: 2 } : a)) })))).toThrow(
      expect.objectContaining({ field: 'attribute "training_mode"' }),
    );
    expect(read(withNode(base, (n) => ({ ...n, attributes: n.attributes.map((a) => (a.name === 'epsilon' ? { ...a, type: 2, i: 1 } : a)) })))).toThrow(
      expect.objectContaining({ field: 'attribute "epsilon"' }),
    );
    expect(read(withNode(base, (n) => n, 5))).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', field: 'opset_import' }));
    const spatial = withNode(model('test_BatchNorm2d_eval'), (n) => ({ ...n, attributes: [...n.attributes, { name: 'spatial', type: 2, i: 0 }] }));
    expect(read(spatial)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', field: 'attribute "spatial"' }));
    const mixed = { ...base, graph: { ...base.graph, initializers: base.graph.initializers.map((t) => (t.name === 'B' ? { ...t, dims: [4], values: new Float32Array(4) } : t)) } };
    expect(read(mixed)).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    const ints = { ...base, graph: { ...base.graph, initializers: base.graph.initializers.map((t) => (t.name === 'B' ? { ...t, dataType: 7, values: new BigInt64Array(3) } : t)) } };
    expect(read(ints)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', tensor: 'B', field: 'data_type' }));
  });

  it('needs a layout when X\'s rank is not declared; refuses a channels-last one', () => {
    const base = model('test_ort_batchnorm_eval_NCDHW_opset15');
    const undeclared = { ...base, graph: { ...base.graph, inputs: [{ name: 'x', elemType: ONNX_FLOAT }] } };
    const [bn] = readOnnxBatchNorms(undeclared);
    expect(() => onnxBatchNormState(bn!)).toThrow(expect.objectContaining({ argument: 'options.layout' }));
    expect(onnxBatchNormState(bn!, { layout: 'NCDHW' }).layout).toBe('NCDHW');
    expect(() => onnxBatchNormState(bn!, { layout: 'NDHWC' })).toThrow(expect.objectContaining({ argument: 'options.layout' }));
  });
});

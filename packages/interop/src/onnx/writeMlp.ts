import { complementMomentum } from '../conventions.js';
import { assertMlpModel, weightOutIn, type MlpModel } from '../mlp.js';
import { checkOnnxModel } from './check.js';
import { encodeOnnxModel } from './encode.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from './model.js';
import { assertName, assertOpset, floatAttr, floatInput, floatTensor, intAttr, invalid, IR_VERSION_OF_OPSET } from './builders.js';
import { PRODUCER_NAME } from './write.js';

export interface MlpOnnxOptions {
  /** Opset 13 to 15 (default 15). */
  readonly opset?: number;
  /** `Gemm` (default, weights `[out, in]` with `transB = 1`, as PyTorch exports a `Linear`) or `MatMul` + `Add`. */
  readonly linear?: 'gemm' | 'matmul';
  /** Graph input (default `x`, float32 `[batch, inFeatures]`) and output (default `logits`). */
  readonly input?: string;
  readonly output?: string;
  /** The symbolic batch dimension (default `batch`). */
  readonly batchDim?: string;
  readonly graphName?: string;
  /** The model's doc_string. */
  readonly docString?: string;
}

function transpose(values: Float32Array | Float64Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/**
 * A multilayer perceptron as an ONNX model: per layer `Gemm` (or `MatMul` + `Add`), then
 * `BatchNormalization` in inference mode with the layer's running statistics, then `Sigmoid` or
 * `Relu`; input float32 `[batch, inFeatures]` with a dynamic batch, output `[batch, classes]`.
 * Initializers carry PyTorch's names (`fc1.weight` `[out, in]`, `bn1.running_mean`, …).
 * Weights are stored as float32. Checked with {@link checkOnnxModel}.
 */
export function mlpOnnxModel(model: MlpModel, options: MlpOnnxOptions = {}): OnnxModel {
  assertMlpModel(model);
  const { opset = 15, linear = 'gemm', input = 'x', output = 'logits', batchDim = 'batch', graphName = 'mlp' } = options;
  assertOpset(opset, 13);
  if (linear !== 'gemm' && linear !== 'matmul') throw invalid('options.linear', '"gemm" or "matmul"', linear);
  for (const [value, argument] of [[input, 'options.input'], [output, 'options.output'], [batchDim, 'options.batchDim'], [graphName, 'options.graphName']] as const) {
    assertName(value, argument);
  }
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let current = input;
  const last = model.layers.length - 1;
  model.layers.forEach((layer, l) => {
    const { name, inFeatures: n, outFeatures: m } = layer;
    const w = weightOutIn(layer, `model.layers[${l}]`);
    const isLast = (step: 'linear' | 'bn' | 'activation'): boolean =>
      l === last &&
      (step === 'activation' ||
        (step === 'bn' && layer.activation === undefined) ||
        (step === 'linear' && layer.batchNorm === undefined && layer.activation === undefined));
    const linearOut = isLast('linear') ? output : `${name}.out`;
    if (linear === 'gemm') {
      initializers.push(floatTensor(`${name}.weight`, [m, n], w));
      const inputs = [current, `${name}.weight`];
      if (layer.bias !== undefined) {
        initializers.push(floatTensor(`${name}.bias`, [m], layer.bias));
        inputs.push(`${name}.bias`);
      }
      nodes.push({ name, opType: 'Gemm', domain: '', inputs, outputs: [linearOut], attributes: [intAttr('transB', 1)] });
    } else {
      initializers.push(floatTensor(`${name}.weight_t`, [n, m], transpose(w, m, n)));
      const product = layer.bias === undefined ? linearOut : `${name}.matmul`;
      nodes.push({ name: `${name}.matmul`, opType: 'MatMul', domain: '', inputs: [current, `${name}.weight_t`], outputs: [product], attributes: [] });
      if (layer.bias !== undefined) {
        initializers.push(floatTensor(`${name}.bias`, [m], layer.bias));
        nodes.push({ name: `${name}.add`, opType: 'Add', domain: '', inputs: [product, `${name}.bias`], outputs: [linearOut], attributes: [] });
      }
    }
    current = linearOut;
    const bn = layer.batchNorm;
    if (bn !== undefined) {
      const s = bn.state;
      const p = bn.name;
      initializers.push(
        floatTensor(`${p}.weight`, [m], s.gamma),
        floatTensor(`${p}.bias`, [m], s.beta),
        floatTensor(`${p}.running_mean`, [m], s.runningMean),
        floatTensor(`${p}.running_var`, [m], s.runningVar),
      );
      const bnOut = isLast('bn') ? output : `${p}.out`;
      const attributes = [floatAttr('epsilon', s.epsilon)];
      if (s.momentum !== null) attributes.push(floatAttr('momentum', complementMomentum(s.momentum)));
      nodes.push({
        name: p,
        opType: 'BatchNormalization',
        domain: '',
        inputs: [current, `${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`],
        outputs: [bnOut],
        attributes,
      });
      current = bnOut;
    }
    if (layer.activation !== undefined) {
      const activationOut = isLast('activation') ? output : `${name}.${layer.activation}`;
      nodes.push({
        name: `${name}.${layer.activation}`,
        opType: layer.activation === 'sigmoid' ? 'Sigmoid' : 'Relu',
        domain: '',
        inputs: [current],
        outputs: [activationOut],
        attributes: [],
      });
      current = activationOut;
    }
  });
  const first = model.layers[0]!;
  const classes = model.layers[last]!.outFeatures;
  const onnx: OnnxModel = {
    irVersion: IR_VERSION_OF_OPSET[opset]!,
    opsetImports: [{ domain: '', version: opset }],
    producerName: PRODUCER_NAME,
    producerVersion: '1',
    ...(options.docString === undefined ? {} : { docString: options.docString }),
    graph: {
      name: graphName,
      nodes,
      initializers,
      inputs: [floatInput(input, [batchDim, first.inFeatures])],
      outputs: [floatInput(output, [batchDim, classes])],
      valueInfo: [],
    },
  };
  checkOnnxModel(onnx);
  return onnx;
}

/** {@link mlpOnnxModel}, encoded as ONNX bytes. */
export function encodeMlpOnnx(model: MlpModel, options: MlpOnnxOptions = {}): Uint8Array {
  return encodeOnnxModel(mlpOnnxModel(model, options));
}

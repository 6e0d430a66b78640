import {
  BatchNormError,
  describeValue,
  isChannelsLast,
  layoutRank,
  type BatchNormState,
  type Layout,
} from '@batchnorm/core';
import { complementMomentum } from '../conventions.js';
import { InteropError } from '../errors.js';
import { checkOnnxModel } from './check.js';
import { assertMlpModel, weightOutIn, type MlpModel } from '../mlp.js';
import {
  ATTRIBUTE_FLOAT,
  ATTRIBUTE_INT,
  ATTRIBUTE_INTS,
  encodeOnnxModel,
  ONNX_FLOAT,
  type OnnxAttribute,
  type OnnxDim,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './model.js';

/** The IR version each opset shipped with (onnx.helper's VERSION_TABLE). */
const IR_VERSION_OF_OPSET: Readonly<Record<number, number>> = { 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8 };

export const PRODUCER_NAME = '@batchnorm/interop';

function invalid(argument: string, expected: string, value: unknown): BatchNormError {
  return new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected, received: describeValue(value) });
}

function assertOpset(opset: unknown, min: number): asserts opset is number {
  if (typeof opset !== 'number' || !Number.isInteger(opset) || opset < min || opset > 15) {
    throw invalid('options.opset', `an integer in [${min}, 15]`, opset);
  }
}

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): OnnxTensor {
  return { name, dataType: ONNX_FLOAT, dims, values: Float32Array.from(values) };
}

function floatAttr(name: string, f: number): OnnxAttribute {
  return { name, type: ATTRIBUTE_FLOAT, f };
}

function intAttr(name: string, i: number): OnnxAttribute {
  return { name, type: ATTRIBUTE_INT, i };
}

function floatInput(name: string, shape: readonly OnnxDim[]): OnnxValueInfo {
  return { name, elemType: ONNX_FLOAT, shape };
}

function assertName(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw invalid(argument, 'a non-empty name', value);
}

/** Axis orders between a channels-last layout and ONNX's channels-first one. */
function transposes(layout: Layout): { toChannelsFirst: number[]; toChannelsLast: number[] } | undefined {
  if (!isChannelsLast(layout)) return undefined;
  const rank = layoutRank(layout);
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 1);
  return {
    toChannelsFirst: [0, rank - 1, ...spatial],
    toChannelsLast: [0, ...spatial.map((a) => a + 1), 1],
  };
}

export interface BatchNormOnnxOptions {
  /** Opset of the default domain, 9 to 15 (default 15); training mode needs 14 or later. */
  readonly opset?: number;
  /**
   * Write the node in training mode (`training_mode = 1`, outputs `Y`, `running_mean`,
   * `running_var`): the layer must keep a biased running variance with a numeric momentum, as
   * ONNX does. Default false (inference with the running statistics).
   */
  readonly trainingMode?: boolean;
  /** Names of the graph's input and output (default `x`, `y`). */
  readonly input?: string;
  readonly output?: string;
  /**
   * `X`'s shape in the layer's layout order; strings are symbolic (dynamic) sizes. Default:
   * `N` and the spatial sizes symbolic, `C` the layer's.
   */
  readonly shape?: readonly OnnxDim[];
  /**
   * Where γ, β and the running statistics go: initializers in the model (default), or graph
   * inputs that the caller feeds at run time (`scale`, `B`, `input_mean`, `input_var`).
   */
  readonly parameters?: 'initializers' | 'inputs';
  /** The graph's name (default `batchnorm`). */
  readonly graphName?: string;
}

/**
 * A BN layer's state as an ONNX model of one `BatchNormalization` node (between two
 * `Transpose` nodes for a channels-last layout, since ONNX's operator is channels-first),
 * checked with {@link checkOnnxModel}. Inference mode normalizes with the state's running
 * statistics as they are, so the model's outputs equal the layer's in eval mode.
 */
export function batchNormOnnxModel(state: BatchNormState, options: BatchNormOnnxOptions = {}): OnnxModel {
  if (typeof state !== 'object' || state === null || state.schema !== 'batchnorm-state/1') {
    throw invalid('state', 'a BatchNormState (schema "batchnorm-state/1", from layer.state())', state);
  }
  const { opset = 15, trainingMode = false, input = 'x', output = 'y', parameters = 'initializers', graphName = 'batchnorm' } = options;
  assertOpset(opset, 9);
  assertName(input, 'options.input');
  assertName(output, 'options.output');
  assertName(graphName, 'options.graphName');
  if (parameters !== 'initializers' && parameters !== 'inputs') throw invalid('options.parameters', '"initializers" or "inputs"', parameters);
  if (typeof trainingMode !== 'boolean') throw invalid('options.trainingMode', 'true or false', trainingMode);
  const c = state.numFeatures;
  const rank = layoutRank(state.layout);
  const channelAxis = isChannelsLast(state.layout) ? rank - 1 : 1;
  const symbolic = ['N', ...(rank === 3 ? ['L'] : rank === 4 ? ['H', 'W'] : rank === 5 ? ['D', 'H', 'W'] : [])];
  const defaultShape: OnnxDim[] = [...symbolic];
  defaultShape.splice(channelAxis, 0, c);
  const shape = options.shape ?? defaultShape;
  if (!Array.isArray(shape) || shape.length !== rank || (typeof shape[channelAxis] === 'number' && shape[channelAxis] !== c)) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'options.shape',
      expected: `${rank} sizes in ${state.layout} order, with ${c} features on axis ${channelAxis}`,
      received: describeValue(shape),
    });
  }
  if (trainingMode) {
    if (opset < 14) {
      throw new InteropError({ code: 'NOT_SUPPORTED', argument: 'options.opset', expected: 'opset 14 or later for training mode (training_mode attribute)', received: String(opset) });
    }
    if (state.varianceCorrection !== 'biased' || state.momentum === null) {
      throw new InteropError({
        code: 'NOT_SUPPORTED',
        argument: state.momentum === null ? 'state.momentum' : 'state.varianceCorrection',
        expected: "varianceCorrection 'biased' and a numeric momentum (ONNX's training update)",
        received: state.momentum === null ? 'null' : describeValue(state.varianceCorrection),
        hint: 'Training-mode ONNX updates the running variance with the biased batch variance.',
      });
    }
  }
  const paramNames = { scale: 'scale', bias: 'B', mean: 'input_mean', variance: 'input_var' };
  const initializers =
    parameters === 'initializers'
      ? [
          floatTensor(paramNames.scale, [c], state.gamma),
          floatTensor(paramNames.bias, [c], state.beta),
          floatTensor(paramNames.mean, [c], state.runningMean),
          floatTensor(paramNames.variance, [c], state.runningVar),
        ]
      : [];
  const paramInputs =
    parameters === 'inputs' ? Object.values(paramNames).map((name) => floatInput(name, [c])) : [];
  const t = transposes(state.layout);
  const nodes: OnnxNode[] = [];
  let bnInput = input;
  let bnOutput = output;
  if (t !== undefined) {
    bnInput = `${input}_channels_first`;
    bnOutput = `${output}_channels_first`;
    nodes.push({ name: 'to_channels_first', opType: 'Transpose', domain: '', inputs: [input], outputs: [bnInput], attributes: [{ name: 'perm', type: ATTRIBUTE_INTS, ints: t.toChannelsFirst }] });
  }
  const attributes: OnnxAttribute[] = [floatAttr('epsilon', state.epsilon)];
  if (state.momentum !== null) attributes.push(floatAttr('momentum', complementMomentum(state.momentum)));
  if (trainingMode) attributes.push(intAttr('training_mode', 1));
  nodes.push({
    name: 'batch_norm',
    opType: 'BatchNormalization',
    domain: '',
    inputs: [bnInput, paramNames.scale, paramNames.bias, paramNames.mean, paramNames.variance],
    outputs: trainingMode ? [bnOutput, 'running_mean', 'running_var'] : [bnOutput],
    attributes,
  });
  if (t !== undefined) {
    nodes.push({ name: 'to_channels_last', opType: 'Transpose', domain: '', inputs: [bnOutput], outputs: [output], attributes: [{ name: 'perm', type: ATTRIBUTE_INTS, ints: t.toChannelsLast }] });
  }
  const outputs: OnnxValueInfo[] = [floatInput(output, shape)];
  if (trainingMode) outputs.push(floatInput('running_mean', [c]), floatInput('running_var', [c]));
  const model: OnnxModel = {
    irVersion: IR_VERSION_OF_OPSET[opset]!,
    opsetImports: [{ domain: '', version: opset }],
    producerName: PRODUCER_NAME,
    producerVersion: '1',
    graph: {
      name: graphName,
      nodes,
      initializers,
      inputs: [floatInput(input, shape), ...paramInputs],
      outputs,
      valueInfo: [],
    },
  };
  checkOnnxModel(model);
  return model;
}

/** {@link batchNormOnnxModel}, encoded as ONNX bytes. */
export function encodeBatchNormOnnx(state: BatchNormState, options: BatchNormOnnxOptions = {}): Uint8Array {
  return encodeOnnxModel(batchNormOnnxModel(state, options));
}

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

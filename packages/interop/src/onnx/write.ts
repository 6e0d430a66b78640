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
import { assertName, assertOpset, floatAttr, floatInput, floatTensor, intAttr, invalid, IR_VERSION_OF_OPSET } from './builders.js';
import { ATTRIBUTE_INTS, type OnnxAttribute, type OnnxDim, type OnnxModel, type OnnxNode, type OnnxValueInfo } from './model.js';
import { encodeOnnxModel } from './encode.js';

export const PRODUCER_NAME = '@batchnorm/interop';

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

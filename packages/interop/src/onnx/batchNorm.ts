import { BatchNormError, describeValue, isChannelsLast, layoutRank, type BatchNormState, type Layout } from '@batchnorm/core';
import { complementMomentum, shortestFloat32 } from '../conventions.js';
import { InteropError, malformed, unsupported, type InteropLocation } from '../errors.js';
import {
  ATTRIBUTE_FLOAT,
  ATTRIBUTE_INT,
  dataTypeName,
  ONNX_DOUBLE,
  ONNX_FLOAT,
  type OnnxAttribute,
  type OnnxDim,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './model.js';
import { decodeOnnxModel } from './decode.js';

/** The opset version of the default domain (`""` or `"ai.onnx"`). */
export function defaultOpset(model: OnnxModel): number | undefined {
  return model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
}

/** The versions of `BatchNormalization`'s schema: an opset uses the newest not above it. */
export const BATCH_NORM_SCHEMA_VERSIONS = [6, 7, 9, 14, 15] as const;

export function batchNormSchemaVersion(opset: number): number | undefined {
  let since: number | undefined;
  for (const v of BATCH_NORM_SCHEMA_VERSIONS) if (v <= opset) since = v;
  return since;
}

/** A `BatchNormalization` node, with its parameters' values where the model (or feeds) has them. */
export interface OnnxBatchNorm {
  /** The node's name, or `#<index>` when it has none. */
  readonly name: string;
  readonly index: number;
  /** The model's default-domain opset, and the operator version it selects (6, 7, 9, 14, 15). */
  readonly opset: number;
  readonly schemaVersion: number;
  /** Training mode: batch statistics, running statistics updated (`training_mode`, or `is_test = 0`, or more than one output before opset 14). */
  readonly trainingMode: boolean;
  /** As stored (float32); `fromOnnx` takes them at their shortest decimal. */
  readonly epsilon: number;
  readonly momentum: number;
  readonly inputs: { readonly x: string; readonly scale: string; readonly bias: string; readonly mean: string; readonly variance: string };
  /** Output names; absent where the node does not produce it. */
  readonly outputs: {
    readonly y: string;
    readonly runningMean?: string;
    readonly runningVar?: string;
    /** Opsets 6–13 only. */
    readonly savedMean?: string;
    readonly savedVar?: string;
  };
  /** The shape of `X` where the graph declares it (graph input or value_info). */
  readonly xShape?: readonly OnnxDim[];
  /** Values of the parameters found as initializers or feeds; absent for a runtime input. */
  readonly parameters: {
    readonly scale?: Float64Array;
    readonly bias?: Float64Array;
    readonly mean?: Float64Array;
    readonly variance?: Float64Array;
  };
}

export interface ReadOnnxOptions {
  /** Names the bytes in errors (a file path). */
  readonly source?: string;
  /**
   * Values for graph inputs (e.g. an ONNX backend test's `input_K.pb`), by name; they take
   * precedence over initializers of the same name, as a runtime feed does.
   */
  readonly feeds?: Readonly<Record<string, OnnxTensor>>;
}

function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

/** A FLOAT or INT attribute's value, `fallback` when the node does not have it. */
function numberAttribute(node: OnnxNode, name: string, type: 'FLOAT' | 'INT', fallback: number, where: InteropLocation): number {
  const a = attribute(node, name);
  if (a === undefined) return fallback;
  const value = type === 'FLOAT' ? a.f : a.i;
  if (a.type !== (type === 'FLOAT' ? ATTRIBUTE_FLOAT : ATTRIBUTE_INT) || value === undefined) {
    throw malformed({ ...where, field: `attribute ${JSON.stringify(name)}` }, type === 'FLOAT' ? 'a FLOAT attribute' : 'an INT attribute', `attribute type ${a.type}`);
  }
  return value;
}

function vectorOf(tensor: OnnxTensor, where: InteropLocation): Float64Array {
  const at = { ...where, tensor: tensor.name };
  if (tensor.dataType !== ONNX_FLOAT && tensor.dataType !== ONNX_DOUBLE) {
    throw unsupported({ ...at, field: 'data_type' }, 'FLOAT or DOUBLE', dataTypeName(tensor.dataType));
  }
  if (tensor.dims.length !== 1) {
    throw new InteropError({ code: 'SHAPE_MISMATCH', ...at, field: 'dims', expected: '[C]', received: `[${tensor.dims.join(', ')}]` });
  }
  return Float64Array.from(tensor.values as Float32Array | Float64Array);
}

/**
 * Every `BatchNormalization` node of a model (opsets 6 to 15 and later, whose operator is
 * version 15), inference or training mode, with its parameters from initializers, or from
 * `feeds` for graph inputs. Throws `InteropError` for a malformed model or node.
 */
export function readOnnxBatchNorms(model: OnnxModel | Uint8Array, options: ReadOnnxOptions = {}): OnnxBatchNorm[] {
  const m = model instanceof Uint8Array ? decodeOnnxModel(model, options.source) : model;
  const file: InteropLocation = options.source === undefined ? {} : { file: options.source };
  const opset = defaultOpset(m);
  const values = new Map<string, OnnxTensor>();
  for (const t of m.graph.initializers) values.set(t.name, t);
  for (const [name, t] of Object.entries(options.feeds ?? {})) values.set(name, t);
  const shapes = new Map<string, OnnxValueInfo>();
  for (const v of [...m.graph.valueInfo, ...m.graph.inputs]) shapes.set(v.name, v);
  const found: OnnxBatchNorm[] = [];
  m.graph.nodes.forEach((node, index) => {
    if (node.opType !== 'BatchNormalization' || (node.domain !== '' && node.domain !== 'ai.onnx')) return;
    const name = node.name === '' ? `#${index}` : node.name;
    const where: InteropLocation = { ...file, tensor: name };
    if (opset === undefined) throw malformed({ ...file, field: 'opset_import' }, 'a default-domain ("") opset', 'none');
    const schemaVersion = batchNormSchemaVersion(opset);
    if (schemaVersion === undefined) {
      throw unsupported({ ...file, field: 'opset_import' }, 'opset 6 or later (BatchNormalization-6 onwards)', `opset ${opset}`);
    }
    if (node.inputs.length !== 5 || node.inputs.some((i) => i === '')) {
      throw malformed({ ...where, field: 'input' }, '5 inputs: X, scale, B, mean, var', `[${node.inputs.map((i) => JSON.stringify(i)).join(', ')}]`);
    }
    // the schemas allow 1 or 5 outputs before version 14, 1 or 3 since
    const allowed = schemaVersion >= 14 ? [1, 3] : [1, 5];
    if (!allowed.includes(node.outputs.length) || node.outputs[0] === '') {
      throw malformed({ ...where, field: 'output' }, `Y, or Y and ${allowed[1]! - 1} optional outputs (BatchNormalization-${schemaVersion})`, `${node.outputs.length} outputs [${node.outputs.map((o) => JSON.stringify(o)).join(', ')}]`);
    }
    if (schemaVersion < 9 && numberAttribute(node, 'spatial', 'INT', 1, where) !== 1) {
      throw unsupported({ ...where, field: 'attribute "spatial"' }, 'spatial = 1 (one statistic per channel)', 'spatial = 0 (per activation)', 'Flatten the input to [N, C·D1·…·Dn] and use spatial = 1.');
    }
    const present = (k: number) => node.outputs[k] !== undefined && node.outputs[k] !== '';
    let trainingMode: boolean;
    if (schemaVersion >= 14) {
      const mode = numberAttribute(node, 'training_mode', 'INT', 0, where);
      if (mode !== 0 && mode !== 1) throw malformed({ ...where, field: 'attribute "training_mode"' }, '0 or 1', String(mode));
      trainingMode = mode === 1;
      if (node.outputs.length !== (trainingMode ? 3 : 1)) {
        throw malformed({ ...where, field: 'output' }, `${trainingMode ? 3 : 1} outputs with training_mode = ${mode}`, `${node.outputs.length} outputs`);
      }
    } else if (schemaVersion === 6) {
      trainingMode = numberAttribute(node, 'is_test', 'INT', 0, where) === 0;
    } else {
      trainingMode = node.outputs.slice(1).some((o) => o !== '');
    }
    const [x, scale, bias, mean, variance] = node.inputs as [string, string, string, string, string];
    const parameter = (input: string) => {
      const t = values.get(input);
      return t === undefined ? undefined : vectorOf(t, where);
    };
    const parameters = {
      ...optional('scale', parameter(scale)),
      ...optional('bias', parameter(bias)),
      ...optional('mean', parameter(mean)),
      ...optional('variance', parameter(variance)),
    };
    const lengths = new Set(Object.values(parameters).map((p) => p.length));
    if (lengths.size > 1) {
      throw new InteropError({
        code: 'SHAPE_MISMATCH',
        ...where,
        field: 'input',
        expected: 'scale, B, mean and var of one length C',
        received: Object.entries(parameters).map(([k, p]) => `${k} ${p.length}`).join(', '),
      });
    }
    const xShape = values.get(x)?.dims ?? shapes.get(x)?.shape;
    const epsilon = numberAttribute(node, 'epsilon', 'FLOAT', 1e-5, where);
    const momentum = numberAttribute(node, 'momentum', 'FLOAT', 0.9, where);
    if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw malformed({ ...where, field: 'attribute "epsilon"' }, 'a finite number > 0', String(epsilon));
    if (!(momentum >= 0 && momentum <= 1)) throw malformed({ ...where, field: 'attribute "momentum"' }, 'a number in [0, 1]', String(momentum));
    const output = (k: number) => (present(k) ? node.outputs[k] : undefined);
    found.push({
      name,
      index,
      opset,
      schemaVersion,
      trainingMode,
      epsilon,
      momentum,
      inputs: { x, scale, bias, mean, variance },
      outputs: {
        y: node.outputs[0]!,
        ...optional('runningMean', output(1)),
        ...optional('runningVar', output(2)),
        ...optional('savedMean', schemaVersion < 14 ? output(3) : undefined),
        ...optional('savedVar', schemaVersion < 14 ? output(4) : undefined),
      },
      ...(xShape === undefined ? {} : { xShape }),
      parameters,
    });
  });
  return found;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The channels-first layout of rank `rank` (ONNX's `BatchNormalization` order). */
export function channelsFirstLayout(rank: number): Layout | undefined {
  return ({ 2: 'NC', 3: 'NCL', 4: 'NCHW', 5: 'NCDHW' } as Record<number, Layout>)[rank];
}

/**
 * Our layer state for a `BatchNormalization` node: γ, β and the running statistics from its
 * parameters, ε and momentum in our sense (`1 − momentum`, at their shortest decimal), and
 * `varianceCorrection: 'biased'` (ONNX's training update). The layout is the channels-first one
 * of `X`'s rank, or `options.layout` when the graph does not declare it.
 */
export function onnxBatchNormState(node: OnnxBatchNorm, options: { readonly layout?: Layout } = {}): BatchNormState {
  const where: InteropLocation = { tensor: node.name };
  for (const [key, input] of [
    ['scale', node.inputs.scale],
    ['bias', node.inputs.bias],
    ['mean', node.inputs.mean],
    ['variance', node.inputs.variance],
  ] as const) {
    if (node.parameters[key] === undefined) {
      throw new InteropError({
        code: 'INVALID_ARGUMENT',
        ...where,
        field: `input ${JSON.stringify(input)}`,
        expected: 'an initializer, or a value in options.feeds',
        received: 'a graph input without a value',
      });
    }
  }
  const rank = node.xShape?.length;
  const layout = options.layout ?? (rank === undefined ? undefined : channelsFirstLayout(rank));
  if (layout === undefined) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'options.layout',
      expected: `a channels-first layout (NC, NCL, NCHW, NCDHW): node ${JSON.stringify(node.name)}'s input X has ${rank === undefined ? 'no declared shape' : `rank ${rank}`}`,
      received: 'undefined',
    });
  }
  if (rank !== undefined && layoutRank(layout) !== rank) {
    throw new BatchNormError({ code: 'SHAPE_MISMATCH', argument: 'options.layout', expected: `a layout of rank ${rank} (X's)`, received: describeValue(layout) });
  }
  if (isChannelsLast(layout)) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'options.layout', expected: 'a channels-first layout (ONNX is channels-first)', received: describeValue(layout) });
  }
  const p = node.parameters as Required<OnnxBatchNorm['parameters']>;
  return {
    schema: 'batchnorm-state/1',
    numFeatures: p.scale.length,
    layout,
    epsilon: shortestFloat32(node.epsilon),
    momentum: complementMomentum(shortestFloat32(node.momentum)),
    varianceCorrection: 'biased',
    gamma: Array.from(p.scale),
    beta: Array.from(p.bias),
    runningMean: Array.from(p.mean),
    runningVar: Array.from(p.variance),
    numBatchesTracked: 0,
  };
}


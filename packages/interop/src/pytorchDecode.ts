import { BatchNormError, describeValue, isLayout, type BatchNormState, type Layout, type VarianceCorrection } from '@batchnorm/core';
import { convertRunningVar } from './conventions.js';
import { InteropError, malformed, unsupported } from './errors.js';
import { assertPrefix, metadataKey, type LayerMetadata } from './pytorch.js';
import { decodeSafetensors, safetensorsValues, type SafetensorsFile, type SafetensorsReadOptions } from './safetensors.js';

/** Reading PyTorch `BatchNorm*d` state (see pytorch.ts for the names and the metadata). */

export interface BatchNormReadOptions {
  /**
   * The layer's layout (default: the file's metadata, else `'NC'`): PyTorch's `BatchNorm1d`
   * is `NC` or `NCL`, `BatchNorm2d` `NCHW`, `BatchNorm3d` `NCDHW`; the file does not say.
   */
  readonly layout?: Layout;
  /** Default: the metadata, else PyTorch's 1e-5 (a module's `eps` is not in its state_dict). */
  readonly epsilon?: number;
  /** Default: the metadata, else PyTorch's 0.1. */
  readonly momentum?: number | null;
  /**
   * Default: the metadata, else `'unbiased'` (PyTorch's). For `'biased'`, the file's unbiased
   * `running_var` is converted with `batchSize`.
   */
  readonly varianceCorrection?: VarianceCorrection;
  /** The `m` to convert an unbiased file's running variance for a `'biased'` layer. */
  readonly batchSize?: number;
}

function floatVector(file: SafetensorsFile, name: string, c: number | undefined, source: string | undefined): Float64Array {
  const tensor = file.tensors.get(name)!;
  const where = { ...(source === undefined ? {} : { file: source }), tensor: name };
  if (tensor.dtype !== 'F32' && tensor.dtype !== 'F64') {
    throw tensor.dtype === 'F16' || tensor.dtype === 'BF16'
      ? unsupported({ ...where, field: 'dtype' }, 'F32 or F64 (convert the module with .float() before saving)', tensor.dtype)
      : malformed({ ...where, field: 'dtype' }, 'F32 or F64', tensor.dtype);
  }
  if (tensor.shape.length !== 1 || (c !== undefined && tensor.shape[0] !== c)) {
    throw new InteropError({
      code: 'SHAPE_MISMATCH',
      ...where,
      field: 'shape',
      expected: c === undefined ? '[C]' : `[${c}] (as ${JSON.stringify(name.replace(/[^.]*$/, 'running_mean'))})`,
      received: `[${tensor.shape.join(', ')}]`,
    });
  }
  const values = Float64Array.from(safetensorsValues(tensor, name, source) as Float32Array | Float64Array);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || (name.endsWith('running_var') && v < 0)) {
      throw malformed({ ...where, field: `values[${i}]` }, name.endsWith('running_var') ? 'a finite value ≥ 0' : 'a finite value', String(v));
    }
  }
  return values;
}

function parseMetadata(text: string | undefined, key: string, source: string | undefined): Partial<LayerMetadata> {
  if (text === undefined) return {};
  const where = { ...(source === undefined ? {} : { file: source }), field: `__metadata__.${key}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(where, 'JSON written by @batchnorm/interop', describeValue(text.slice(0, 40)));
  }
  if (typeof value !== 'object' || value === null) throw malformed(where, 'a JSON object', describeValue(value));
  const m = value as Record<string, unknown>;
  const corrections = ['unbiased', 'biased'];
  const ok =
    (m['layout'] === undefined || isLayout(m['layout'])) &&
    (m['epsilon'] === undefined || typeof m['epsilon'] === 'number') &&
    (m['momentum'] === undefined || m['momentum'] === null || typeof m['momentum'] === 'number') &&
    (m['varianceCorrection'] === undefined || corrections.includes(m['varianceCorrection'] as string)) &&
    (m['runningVar'] === undefined || corrections.includes(m['runningVar'] as string)) &&
    (m['batchSize'] === undefined || (Number.isInteger(m['batchSize']) && (m['batchSize'] as number) >= 2));
  if (!ok) throw malformed(where, '{ layout, epsilon, momentum, varianceCorrection, runningVar, batchSize? }', text.slice(0, 120));
  return m as Partial<LayerMetadata>;
}

/**
 * The state of the layer under `prefix` in a decoded file. Required: `running_mean` and
 * `running_var`; `weight` and `bias` may both be absent (`affine=False`: γ = 1, β = 0);
 * `num_batches_tracked` may be absent (checkpoints older than PyTorch 0.4.1: 0). Settings come
 * from `options`, else the metadata this package wrote, else PyTorch's defaults.
 */
export function batchNormStateFromSafetensors(
  file: SafetensorsFile,
  prefix = '',
  options: BatchNormReadOptions = {},
  source?: string,
): BatchNormState {
  assertPrefix(prefix, 'prefix');
  const where = (tensor: string) => ({ ...(source === undefined ? {} : { file: source }), tensor });
  const has = (suffix: string) => file.tensors.has(`${prefix}${suffix}`);
  for (const suffix of ['running_mean', 'running_var']) {
    if (!has(suffix)) {
      const hint = prefix === '' ? undefined : `Tensors in the file: ${[...file.tensors.keys()].slice(0, 8).join(', ')}`;
      throw new InteropError({
        code: 'INVALID_ARGUMENT',
        ...where(`${prefix}${suffix}`),
        expected: 'the tensor, in a BatchNorm state_dict with track_running_stats=True',
        received: 'no such tensor',
        ...(hint === undefined ? {} : { hint }),
      });
    }
  }
  if (has('weight') !== has('bias')) {
    const missing = has('weight') ? 'bias' : 'weight';
    throw new InteropError({ code: 'INVALID_ARGUMENT', ...where(`${prefix}${missing}`), expected: 'weight and bias both present (affine) or both absent', received: 'no such tensor' });
  }
  const meta = parseMetadata(file.metadata[metadataKey(prefix)], metadataKey(prefix), source);
  const runningMean = floatVector(file, `${prefix}running_mean`, undefined, source);
  const c = runningMean.length;
  let runningVar = floatVector(file, `${prefix}running_var`, c, source);
  const gamma = has('weight') ? floatVector(file, `${prefix}weight`, c, source) : new Float64Array(c).fill(1);
  const beta = has('bias') ? floatVector(file, `${prefix}bias`, c, source) : new Float64Array(c);
  let numBatchesTracked = 0;
  if (has('num_batches_tracked')) {
    const name = `${prefix}num_batches_tracked`;
    const tensor = file.tensors.get(name)!;
    if (tensor.dtype !== 'I64') throw malformed({ ...where(name), field: 'dtype' }, 'I64', tensor.dtype);
    if (tensor.shape.length > 1 || (tensor.shape.length === 1 && tensor.shape[0] !== 1)) {
      throw new InteropError({ code: 'SHAPE_MISMATCH', ...where(name), field: 'shape', expected: '[] (a scalar)', received: `[${tensor.shape.join(', ')}]` });
    }
    const value = (safetensorsValues(tensor, name, source) as BigInt64Array)[0]!;
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw malformed({ ...where(name), field: 'value' }, 'an integer in [0, 2^53)', String(value));
    }
    numBatchesTracked = Number(value);
  }
  const layout = options.layout ?? meta.layout ?? 'NC';
  const varianceCorrection = options.varianceCorrection ?? meta.varianceCorrection ?? 'unbiased';
  const fileCorrection = meta.runningVar ?? 'unbiased';
  if (varianceCorrection !== fileCorrection) {
    const batchSize = options.batchSize ?? meta.batchSize;
    if (batchSize === undefined) {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: 'options.batchSize',
        expected: `the values per feature in each training batch (m ≥ 2), to convert the file's ${fileCorrection} running variance for a ${varianceCorrection} layer`,
        received: 'undefined',
      });
    }
    runningVar = convertRunningVar(runningVar, fileCorrection, varianceCorrection, batchSize);
  }
  return {
    schema: 'batchnorm-state/1',
    numFeatures: c,
    layout,
    epsilon: options.epsilon ?? meta.epsilon ?? 1e-5,
    momentum: options.momentum !== undefined ? options.momentum : meta.momentum !== undefined ? meta.momentum : 0.1,
    varianceCorrection,
    gamma: Array.from(gamma),
    beta: Array.from(beta),
    runningMean: Array.from(runningMean),
    runningVar: Array.from(runningVar),
    numBatchesTracked,
  };
}

/** Prefixes of every BatchNorm in a file: every `<prefix>running_mean` with a `<prefix>running_var`. */
export function batchNormPrefixes(file: SafetensorsFile): string[] {
  const prefixes: string[] = [];
  for (const name of file.tensors.keys()) {
    if (!name.endsWith('running_mean')) continue;
    const prefix = name.slice(0, -'running_mean'.length);
    if ((prefix === '' || prefix.endsWith('.')) && file.tensors.has(`${prefix}running_var`)) prefixes.push(prefix);
  }
  return prefixes;
}

export interface BatchNormLayersReadOptions extends SafetensorsReadOptions {
  /** Per-prefix settings (layout, …), e.g. `{ "features.1.": { layout: 'NCHW' } }`. */
  readonly layers?: Readonly<Record<string, BatchNormReadOptions>>;
  /** Settings for every layer not in `layers`. */
  readonly defaults?: BatchNormReadOptions;
}

/** Every BatchNorm layer of a safetensors file, by prefix (other tensors are ignored). */
export function decodeBatchNormSafetensors(
  bytes: Uint8Array,
  options: BatchNormLayersReadOptions = {},
): Record<string, BatchNormState> {
  const file = decodeSafetensors(bytes, options);
  return batchNormLayersFromSafetensors(file, options);
}

export function batchNormLayersFromSafetensors(
  file: SafetensorsFile,
  options: BatchNormLayersReadOptions = {},
): Record<string, BatchNormState> {
  const prefixes = batchNormPrefixes(file);
  for (const prefix of Object.keys(options.layers ?? {})) {
    if (!prefixes.includes(prefix)) {
      throw new InteropError({
        code: 'INVALID_ARGUMENT',
        ...(options.source === undefined ? {} : { file: options.source }),
        tensor: `${prefix}running_mean`,
        argument: `options.layers[${JSON.stringify(prefix)}]`,
        expected: `a BatchNorm in the file (found: ${prefixes.map((p) => JSON.stringify(p)).join(', ') || 'none'})`,
        received: 'no such layer',
      });
    }
  }
  const states: Record<string, BatchNormState> = {};
  for (const prefix of prefixes) {
    states[prefix] = batchNormStateFromSafetensors(file, prefix, options.layers?.[prefix] ?? options.defaults ?? {}, options.source);
  }
  return states;
}

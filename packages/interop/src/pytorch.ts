import { BatchNorm, BatchNormError, describeValue, type BatchNormState, type Layout, type VarianceCorrection } from '@batchnorm/core';
import { convertRunningVar } from './conventions.js';
import { encodeSafetensors, type SafetensorsContent, type SafetensorsTensorInput } from './safetensorsEncode.js';

/**
 * A `BatchNorm` layer's state under PyTorch's `state_dict` names: `<prefix>weight` (γ),
 * `<prefix>bias` (β), `<prefix>running_mean`, `<prefix>running_var` (unbiased, as PyTorch keeps
 * it) and `<prefix>num_batches_tracked` (I64, shape `[]`). What PyTorch does not keep (layout,
 * ε, momentum, our variance correction) goes into the file's `__metadata__` under
 * `batchnorm:<prefix>`, which PyTorch ignores and this package reads back.
 */

export const PYTORCH_BN_SUFFIXES = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'] as const;

/** The metadata key of a layer's settings. */
export function metadataKey(prefix: string): string {
  return `batchnorm:${prefix}`;
}

/** What the metadata keeps of a layer, JSON in `__metadata__["batchnorm:<prefix>"]`. */
export interface LayerMetadata {
  readonly layout: Layout;
  readonly epsilon: number;
  readonly momentum: number | null;
  readonly varianceCorrection: VarianceCorrection;
  /** The correction of the file's `running_var` values: `unbiased` unless written `'as-is'` from a biased layer. */
  readonly runningVar: VarianceCorrection;
  /** The `m` a biased layer's running variance was converted with. */
  readonly batchSize?: number;
}

export interface BatchNormWriteOptions {
  /** `F32` (PyTorch's default dtype; default) or `F64` (a `.double()` module). */
  readonly dtype?: 'F32' | 'F64';
  /**
   * For a layer with `varianceCorrection: 'biased'` (required there): PyTorch's running variance
   * is unbiased. `{ batchSize: m }` writes `m/(m−1)·runningVar`, what PyTorch would have kept
   * training on batches of `m` values per feature (its eval outputs then differ from this
   * layer's by that factor); `'as-is'` writes the biased values, so PyTorch's eval outputs equal
   * this layer's (but training on there would mix the two corrections).
   */
  readonly biasedRunningVar?: { readonly batchSize: number } | 'as-is';
}

export function assertPrefix(prefix: unknown, argument: string): asserts prefix is string {
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.endsWith('.'))) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument,
      expected: 'a module path ending in "." as in PyTorch\'s state_dict ("bn1.", "features.3."), or "" for a bare module',
      received: describeValue(prefix),
    });
  }
}

/** `state` as PyTorch's tensors under `prefix` (e.g. `"bn1."`), with its metadata entry. */
export function batchNormTensors(
  state: BatchNormState,
  prefix = '',
  options: BatchNormWriteOptions = {},
): SafetensorsContent {
  assertPrefix(prefix, 'prefix');
  if (typeof state !== 'object' || state === null || state.schema !== 'batchnorm-state/1') {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'state',
      expected: 'a BatchNormState (schema "batchnorm-state/1", from layer.state())',
      received: describeValue(state),
    });
  }
  const dtype = options.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F64') {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'options.dtype', expected: '"F32" or "F64"', received: describeValue(dtype) });
  }
  const c = state.numFeatures;
  let runningVar: ArrayLike<number> = state.runningVar;
  let runningVarCorrection: VarianceCorrection = 'unbiased';
  let batchSize: number | undefined;
  if (state.varianceCorrection === 'biased') {
    const choice = options.biasedRunningVar;
    if (choice === 'as-is') {
      runningVarCorrection = 'biased';
    } else if (typeof choice === 'object' && choice !== null) {
      batchSize = choice.batchSize;
      try {
        runningVar = convertRunningVar(state.runningVar, 'biased', 'unbiased', batchSize);
      } catch (error) {
        throw new BatchNormError(
          { code: 'INVALID_ARGUMENT', argument: 'options.biasedRunningVar.batchSize', expected: 'an integer ≥ 2 (values per feature in each training batch)', received: describeValue(batchSize) },
          { cause: error },
        );
      }
    } else {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: 'options.biasedRunningVar',
        expected: "{ batchSize: m } or 'as-is' for a layer whose running variance is biased (PyTorch keeps it unbiased)",
        received: describeValue(choice),
        hint: "{ batchSize: m } writes m/(m−1)·runningVar, what PyTorch would have kept; 'as-is' keeps eval outputs identical.",
      });
    }
  }
  const vector = (values: ArrayLike<number>): SafetensorsTensorInput => ({ dtype, shape: [c], data: values });
  const metadata: LayerMetadata = {
    layout: state.layout,
    epsilon: state.epsilon,
    momentum: state.momentum,
    varianceCorrection: state.varianceCorrection,
    runningVar: runningVarCorrection,
    ...(batchSize === undefined ? {} : { batchSize }),
  };
  return {
    tensors: {
      [`${prefix}weight`]: vector(state.gamma),
      [`${prefix}bias`]: vector(state.beta),
      [`${prefix}running_mean`]: vector(state.runningMean),
      [`${prefix}running_var`]: vector(runningVar),
      [`${prefix}num_batches_tracked`]: { dtype: 'I64', shape: [], data: [state.numBatchesTracked] },
    },
    metadata: { [metadataKey(prefix)]: JSON.stringify(metadata) },
  };
}

/** Merges several contents (tensors and metadata) into one; a name given twice is an error. */
export function mergeSafetensors(...contents: readonly SafetensorsContent[]): SafetensorsContent {
  const tensors: Record<string, SafetensorsTensorInput> = {};
  const metadata: Record<string, string> = {};
  for (const content of contents) {
    for (const [name, tensor] of Object.entries(content.tensors)) {
      if (Object.hasOwn(tensors, name)) {
        throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'contents', expected: 'distinct tensor names', received: `${JSON.stringify(name)} twice` });
      }
      tensors[name] = tensor;
    }
    Object.assign(metadata, content.metadata ?? {});
  }
  return { tensors, metadata };
}

/** The layers to write: `{ "bn1.": state, "bn2.": state }` (prefix → state). */
export type BatchNormLayers = Readonly<Record<string, BatchNormState>>;

/** Encodes layers (prefix → state) as one safetensors file. */
export function encodeBatchNormSafetensors(layers: BatchNormLayers, options: BatchNormWriteOptions = {}): Uint8Array {
  if (typeof layers !== 'object' || layers === null) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'layers', expected: 'an object { prefix: state }', received: describeValue(layers) });
  }
  return encodeSafetensors(mergeSafetensors(...Object.entries(layers).map(([prefix, state]) => batchNormTensors(state, prefix, options))));
}

/** States of live layers, `{ prefix: await layer.state() }`. */
export async function statesOf(layers: Readonly<Record<string, BatchNorm>>): Promise<Record<string, BatchNormState>> {
  const entries = await Promise.all(Object.entries(layers).map(async ([prefix, layer]) => [prefix, await layer.state()] as const));
  return Object.fromEntries(entries);
}

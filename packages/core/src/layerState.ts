import { BatchNormError, describeValue } from './errors.js';
import { foldNormalization } from './fold.js';
import { assertLayout } from './layout.js';
import type { Layout, VarianceCorrection } from './types.js';
import { assertEpsilon, assertMomentum, assertPositiveInteger, assertVarianceCorrection, invalid, toFeatureVector } from './validate.js';

/** Serialised layer state, schema `batchnorm-state/1`: plain JSON. */
export interface BatchNormState {
  readonly schema: 'batchnorm-state/1';
  readonly numFeatures: number;
  readonly layout: Layout;
  readonly epsilon: number;
  readonly momentum: number | null;
  readonly varianceCorrection: VarianceCorrection;
  readonly gamma: number[];
  readonly beta: number[];
  readonly runningMean: number[];
  readonly runningVar: number[];
  readonly numBatchesTracked: number;
}

/** The per-feature affine map of inference, `y = scale·x + shift` (paper Algorithm 2). */
export interface FoldedBatchNorm {
  readonly scale: Float64Array;
  readonly shift: Float64Array;
}

/** A layer's four per-feature vectors, as read from its backend (or as loaded). */
export interface LayerVectors<V = ArrayLike<number>> {
  readonly gamma: V;
  readonly beta: V;
  readonly runningMean: V;
  readonly runningVar: V;
}

/** A layer's scalars: what a state holds besides its vectors. */
export type LayerScalars = Omit<BatchNormState, 'schema' | keyof LayerVectors>;

/** The `batchnorm-state/1` document of a layer. */
export function stateOf(scalars: LayerScalars, vectors: LayerVectors): BatchNormState {
  return {
    schema: 'batchnorm-state/1',
    numFeatures: scalars.numFeatures,
    layout: scalars.layout,
    epsilon: scalars.epsilon,
    momentum: scalars.momentum,
    varianceCorrection: scalars.varianceCorrection,
    gamma: Array.from(vectors.gamma),
    beta: Array.from(vectors.beta),
    runningMean: Array.from(vectors.runningMean),
    runningVar: Array.from(vectors.runningVar),
    numBatchesTracked: scalars.numBatchesTracked,
  };
}

/** Inference's affine map from a layer's vectors (see `foldNormalization`). */
export function foldOf(vectors: LayerVectors, epsilon: number): FoldedBatchNorm {
  const scale = new Float64Array(vectors.gamma.length);
  const shift = new Float64Array(vectors.gamma.length);
  foldNormalization(vectors.gamma, vectors.beta, vectors.runningMean, vectors.runningVar, epsilon, scale, shift);
  return { scale, shift };
}

/** The options of a layer to load `state` into, checked so an error names the state's field. */
export function stateShape(state: BatchNormState): { numFeatures: number; layout: Layout } {
  if (typeof state !== 'object' || state === null) {
    throw invalid('state', 'an object of schema "batchnorm-state/1"', state);
  }
  assertPositiveInteger(state.numFeatures, 'state.numFeatures');
  assertLayout(state.layout, 'state.layout');
  return { numFeatures: state.numFeatures, layout: state.layout };
}

/**
 * `state` checked against a layer of `numFeatures` in `layout` on a backend of `dtype`, field by
 * field (the error names the field), converted to what the layer holds.
 */
export function checkedState(
  state: BatchNormState,
  numFeatures: number,
  layout: Layout,
  dtype: 'float32' | 'float64',
): LayerScalars & LayerVectors<Float64Array> {
  if (typeof state !== 'object' || state === null) {
    throw invalid('state', 'an object of schema "batchnorm-state/1"', state);
  }
  if (state.schema !== 'batchnorm-state/1') {
    throw invalid('state.schema', '"batchnorm-state/1"', state.schema);
  }
  if (state.numFeatures !== numFeatures) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'state.numFeatures',
      expected: String(numFeatures),
      received: describeValue(state.numFeatures),
    });
  }
  if (state.layout !== layout) {
    throw invalid('state.layout', `"${layout}" (the layer's layout)`, state.layout);
  }
  assertEpsilon(state.epsilon, 'state.epsilon', dtype);
  assertMomentum(state.momentum, 'state.momentum');
  assertVarianceCorrection(state.varianceCorrection, 'state.varianceCorrection');
  const c = numFeatures;
  const gamma = toFeatureVector(state.gamma, c, 'state.gamma', { dtype });
  const beta = toFeatureVector(state.beta, c, 'state.beta', { dtype });
  const runningMean = toFeatureVector(state.runningMean, c, 'state.runningMean', { dtype });
  const runningVar = toFeatureVector(state.runningVar, c, 'state.runningVar', { nonNegative: true, dtype });
  const tracked = state.numBatchesTracked;
  if (typeof tracked !== 'number' || !Number.isInteger(tracked) || tracked < 0) {
    throw invalid('state.numBatchesTracked', 'an integer ≥ 0', tracked);
  }
  return {
    numFeatures,
    layout,
    epsilon: state.epsilon,
    momentum: state.momentum,
    varianceCorrection: state.varianceCorrection,
    numBatchesTracked: tracked,
    gamma,
    beta,
    runningMean,
    runningVar,
  };
}

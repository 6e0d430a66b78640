import { createReferenceBackend, flatIndex, geometryOf } from '@batchnorm/core';
import type { KernelOp } from './byteModel.js';
import type { KernelInputs } from './data.js';

/** Expected values of one output: every element, or only those at `indices`. */
export interface ExpectedArray {
  /** Length of the whole output. */
  readonly length: number;
  /** Flat indices checked; absent means every element. */
  readonly indices?: Int32Array;
  readonly values: Float64Array;
}

export type KernelOutputName = 'y' | 'mean' | 'variance' | 'dx' | 'dgamma' | 'dbeta';
export type Expectations = Record<KernelOp, Partial<Record<KernelOutputName, ExpectedArray>>>;

/** Up to this many elements, core's float64 reference computes every expected value. */
export const REFERENCE_LIMIT = 1 << 20;
/** Above it, this many features (first, last and spread between) are recomputed in float64. */
export const SAMPLED_FEATURES = 8;

/** Expected outputs of the three kernels on `inputs`, in float64. */
export function expectationsFor(inputs: KernelInputs): Expectations {
  const g = geometryOf(inputs.layout, inputs.shape);
  return g.size <= REFERENCE_LIMIT ? referenceExpectations(inputs) : sampledExpectations(inputs);
}

function whole(values: Float64Array): ExpectedArray {
  return { length: values.length, values };
}

/** Every expected value, from core's float64 reference backend. */
export function referenceExpectations(inputs: KernelInputs): Expectations {
  const ref = createReferenceBackend();
  const up = (data: Float32Array, shape: readonly number[]) => ref.upload(Float64Array.from(data), shape);
  const c = inputs.gamma.length;
  const attrs = { layout: inputs.layout, epsilon: inputs.epsilon };
  const x = up(inputs.x, inputs.shape);
  const gamma = up(inputs.gamma, [c]);
  const beta = up(inputs.beta, [c]);
  const training = ref.batchNormForwardTraining({ x, gamma, beta }, attrs);
  const inference = ref.batchNormForwardInference(
    { x, gamma, beta, mean: up(inputs.populationMean, [c]), variance: up(inputs.populationVariance, [c]) },
    attrs,
  );
  const grads = ref.batchNormBackward(
    { dy: up(inputs.dy, inputs.shape), x, gamma, saved: training.saved },
    attrs,
  );
  return {
    forwardTraining: { y: whole(training.y.data), mean: whole(training.mean.data), variance: whole(training.variance.data) },
    forwardInference: { y: whole(inference.data) },
    backward: { dx: whole(grads.dx.data), dgamma: whole(grads.dgamma.data), dbeta: whole(grads.dbeta.data) },
  };
}

/** Features checked on a large tensor: evenly spread, always the first and the last. */
export function sampledFeatures(c: number, count = SAMPLED_FEATURES): number[] {
  if (c <= count) return Array.from({ length: c }, (_, k) => k);
  return [...new Set(Array.from({ length: count }, (_, j) => Math.round((j * (c - 1)) / (count - 1))))];
}

/**
 * An independent float64 recomputation of a sample of features (two-pass statistics, the
 * simplified backward `dx = (γ/(m·σ))·(m·dy − Σdy − x̂·Σdy·x̂)`), for tensors too large to run
 * the reference on whole.
 */
export function sampledExpectations(inputs: KernelInputs): Expectations {
  const g = geometryOf(inputs.layout, inputs.shape);
  const features = sampledFeatures(g.c);
  const m = g.m;
  const elementIndices = new Int32Array(features.length * m);
  const featureIndices = Int32Array.from(features);
  const y = new Float64Array(elementIndices.length);
  const yInference = new Float64Array(elementIndices.length);
  const dx = new Float64Array(elementIndices.length);
  const means = new Float64Array(features.length);
  const variances = new Float64Array(features.length);
  const dgamma = new Float64Array(features.length);
  const dbeta = new Float64Array(features.length);
  const { x, dy, epsilon } = inputs;
  features.forEach((c, j) => {
    const base = j * m;
    let e = 0;
    for (let n = 0; n < g.n; n++) for (let p = 0; p < g.spatial; p++) elementIndices[base + e++] = flatIndex(g, n, c, p);
    let sum = 0;
    for (let e2 = 0; e2 < m; e2++) sum += x[elementIndices[base + e2]!]!;
    const mean = sum / m;
    let squares = 0;
    for (let e2 = 0; e2 < m; e2++) squares += (x[elementIndices[base + e2]!]! - mean) ** 2;
    const variance = squares / m;
    const invStd = 1 / Math.sqrt(variance + epsilon);
    const gamma = inputs.gamma[c]!;
    const beta = inputs.beta[c]!;
    const inferenceScale = gamma / Math.sqrt(inputs.populationVariance[c]! + epsilon);
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let e2 = 0; e2 < m; e2++) {
      const i = elementIndices[base + e2]!;
      const xHat = (x[i]! - mean) * invStd;
      y[base + e2] = gamma * xHat + beta;
      yInference[base + e2] = inferenceScale * (x[i]! - inputs.populationMean[c]!) + beta;
      sumDy += dy[i]!;
      sumDyXhat += dy[i]! * xHat;
    }
    for (let e2 = 0; e2 < m; e2++) {
      const i = elementIndices[base + e2]!;
      const xHat = (x[i]! - mean) * invStd;
      dx[base + e2] = ((gamma * invStd) / m) * (m * dy[i]! - sumDy - xHat * sumDyXhat);
    }
    means[j] = mean;
    variances[j] = variance;
    dgamma[j] = sumDyXhat;
    dbeta[j] = sumDy;
  });
  const atElements = (values: Float64Array): ExpectedArray => ({ length: g.size, indices: elementIndices, values });
  const atFeatures = (values: Float64Array): ExpectedArray => ({ length: g.c, indices: featureIndices, values });
  return {
    forwardTraining: { y: atElements(y), mean: atFeatures(means), variance: atFeatures(variances) },
    forwardInference: { y: atElements(yInference) },
    backward: { dx: atElements(dx), dgamma: atFeatures(dgamma), dbeta: atFeatures(dbeta) },
  };
}

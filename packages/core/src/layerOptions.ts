import { assertLayout } from './layout.js';
import type { Layout, VarianceCorrection } from './types.js';
import { assertEpsilon, assertMomentum, assertPositiveInteger, assertVarianceCorrection, invalid, toFeatureVector } from './validate.js';

export interface BatchNormOptions {
  /** C: features (columns of `NC`, feature maps of `NCHW`/`NHWC`). */
  readonly numFeatures: number;
  /** Default `'NC'`. */
  readonly layout?: Layout;
  /** Default `1e-5`. */
  readonly epsilon?: number;
  /**
   * Weight of the new batch statistic in the running averages (PyTorch's sense), default 0.1;
   * `null` for the exact cumulative average over all batches seen (the paper's `E_B`).
   */
  readonly momentum?: number | null;
  /** How `σ²_B` feeds the running variance: `'unbiased'` (`m/(m−1)`, the paper; default). */
  readonly varianceCorrection?: VarianceCorrection;
  /** Initial γ (default all ones) and β (default all zeros). */
  readonly gamma?: readonly number[] | Float32Array | Float64Array;
  readonly beta?: readonly number[] | Float32Array | Float64Array;
  /**
   * Reject a training batch whose statistics are not finite, and a `dy` whose gradients are not
   * (default true). It reads the C-length batch mean and variance, and dγ and dβ, back to the
   * host: turn it off to keep a training step entirely on a device. On a backend with
   * `readSync`, `forward` or `backward` itself throws; on an asynchronous backend the check
   * settles later (see `BatchNorm.settle`).
   */
  readonly checkFinite?: boolean;
}

/** `BatchNormOptions` checked (the error names the option), with every default filled in. */
export function layerSettings(options: BatchNormOptions, dtype: 'float32' | 'float64') {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', 'an object with at least numFeatures', options);
  }
  const {
    numFeatures,
    layout = 'NC',
    epsilon = 1e-5,
    momentum = 0.1,
    varianceCorrection = 'unbiased',
    checkFinite = true,
  } = options;
  assertPositiveInteger(numFeatures, 'numFeatures');
  assertLayout(layout);
  assertEpsilon(epsilon, 'epsilon', dtype);
  assertMomentum(momentum);
  assertVarianceCorrection(varianceCorrection);
  if (typeof checkFinite !== 'boolean') throw invalid('checkFinite', 'true or false', checkFinite);
  const gamma =
    options.gamma === undefined
      ? new Float64Array(numFeatures).fill(1)
      : toFeatureVector(options.gamma, numFeatures, 'gamma', { dtype });
  const beta =
    options.beta === undefined
      ? new Float64Array(numFeatures)
      : toFeatureVector(options.beta, numFeatures, 'beta', { dtype });
  return { numFeatures, layout, epsilon, momentum, varianceCorrection, checkFinite, gamma, beta };
}

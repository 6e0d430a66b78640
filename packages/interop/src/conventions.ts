import { BatchNormError, describeValue, type VarianceCorrection } from '@batchnorm/core';
import { InteropError } from './errors.js';

/**
 * The three settings on which batch-norm libraries disagree, in our layer's sense:
 * - `momentum`: weight of the **new** batch statistic in the running averages (PyTorch's sense),
 *   or `null` for the exact cumulative average over all batches;
 * - `varianceCorrection`: whether the running variance takes the unbiased `m/(m−1)·σ²_B`
 *   (`'unbiased'`) or the biased `σ²_B` (`'biased'`);
 * - `epsilon`: added to the variance under the square root.
 *
 * These are exactly the options of `new BatchNorm(backend, { numFeatures, ...conventions })`.
 */
export interface BatchNormConventions {
  readonly momentum: number | null;
  readonly varianceCorrection: VarianceCorrection;
  readonly epsilon: number;
}

/** `torch.nn.BatchNorm1d/2d/3d(num_features, eps, momentum)`: momentum on the new batch, or None. */
export interface PyTorchBatchNormOptions {
  readonly momentum: number | null;
  readonly eps: number;
}

/** `tf.keras.layers.BatchNormalization(momentum, epsilon)` and TF.js's `tf.layers.batchNormalization`. */
export interface KerasBatchNormOptions {
  readonly momentum: number;
  readonly epsilon: number;
}

/** ONNX `BatchNormalization`'s attributes. */
export interface OnnxBatchNormAttributes {
  readonly momentum: number;
  readonly epsilon: number;
}

export type Framework = 'batchnorm' | 'pytorch' | 'keras' | 'onnx';

export interface FrameworkConventions {
  /** What its `momentum` weighs in `running ← (1 − w)·running + w·batch`. */
  readonly momentumWeighs: 'new batch' | 'old value';
  readonly defaultMomentum: number;
  readonly runningVariance: VarianceCorrection;
  readonly defaultEpsilon: number;
}

/** The defaults and senses of each library, as the README's table shows them. */
export const FRAMEWORK_CONVENTIONS: { readonly [F in Framework]: FrameworkConventions } = {
  batchnorm: { momentumWeighs: 'new batch', defaultMomentum: 0.1, runningVariance: 'unbiased', defaultEpsilon: 1e-5 },
  pytorch: { momentumWeighs: 'new batch', defaultMomentum: 0.1, runningVariance: 'unbiased', defaultEpsilon: 1e-5 },
  keras: { momentumWeighs: 'old value', defaultMomentum: 0.99, runningVariance: 'biased', defaultEpsilon: 1e-3 },
  onnx: { momentumWeighs: 'old value', defaultMomentum: 0.9, runningVariance: 'biased', defaultEpsilon: 1e-5 },
};

/**
 * `1 − m`, rounded to 15 significant digits so that Keras's 0.99 gives 0.01 and not
 * 0.010000000000000009 (and back again exactly).
 */
export function complementMomentum(m: number): number {
  return Number((1 - m).toPrecision(15));
}

/**
 * The shortest decimal that rounds to the same float32 as `value`: ONNX stores attributes as
 * float32, so its 0.9 reads back as 0.8999999761581421; this gives 0.9 again.
 */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

function assertUnitInterval(value: unknown, argument: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument,
      expected: 'a number in [0, 1]',
      received: describeValue(value),
    });
  }
}

function assertEpsilon(value: unknown, argument: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected: 'a finite number > 0', received: describeValue(value) });
  }
}

function assertConventions(ours: BatchNormConventions, argument: string): void {
  if (typeof ours !== 'object' || ours === null) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument,
      expected: 'an object { momentum, varianceCorrection, epsilon }',
      received: describeValue(ours),
    });
  }
  if (ours.momentum !== null) assertUnitInterval(ours.momentum, `${argument}.momentum`);
  if (ours.varianceCorrection !== 'unbiased' && ours.varianceCorrection !== 'biased') {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: `${argument}.varianceCorrection`,
      expected: '"unbiased" or "biased"',
      received: describeValue(ours.varianceCorrection),
    });
  }
  assertEpsilon(ours.epsilon, `${argument}.epsilon`);
}

/** Our options for a PyTorch `BatchNorm*d(eps, momentum)`; its defaults are 0.1 and 1e-5. */
export function fromPyTorch(options: Partial<PyTorchBatchNormOptions> = {}): BatchNormConventions {
  const { momentum = 0.1, eps = 1e-5 } = options;
  if (momentum !== null) assertUnitInterval(momentum, 'pytorch.momentum');
  assertEpsilon(eps, 'pytorch.eps');
  return { momentum, varianceCorrection: 'unbiased', epsilon: eps };
}

/** Our options for a Keras / TF.js `BatchNormalization(momentum, epsilon)`; defaults 0.99 and 1e-3. */
export function fromKeras(options: Partial<KerasBatchNormOptions> = {}): BatchNormConventions {
  const { momentum = 0.99, epsilon = 1e-3 } = options;
  assertUnitInterval(momentum, 'keras.momentum');
  assertEpsilon(epsilon, 'keras.epsilon');
  return { momentum: complementMomentum(momentum), varianceCorrection: 'biased', epsilon };
}

/**
 * Our options for ONNX `BatchNormalization` attributes; defaults 0.9 and 1e-5. Values read
 * from a model are float32: pass them through as read, they are taken at their shortest
 * decimal (0.8999999761581421 is 0.9).
 */
export function fromOnnx(attributes: Partial<OnnxBatchNormAttributes> = {}): BatchNormConventions {
  const { momentum = 0.9, epsilon = 1e-5 } = attributes;
  assertUnitInterval(momentum, 'onnx.momentum');
  assertEpsilon(epsilon, 'onnx.epsilon');
  return {
    momentum: complementMomentum(shortestFloat32(momentum)),
    varianceCorrection: 'biased',
    epsilon: shortestFloat32(epsilon),
  };
}

function cannot(argument: string, framework: string, expected: string, received: unknown, hint: string): InteropError {
  return new InteropError({
    code: 'NOT_SUPPORTED',
    argument,
    expected: `${expected} (what ${framework} can express)`,
    received: describeValue(received),
    hint,
  });
}

const RUNNING_VAR_HINT =
  'Inference does not depend on it (the saved running variance is used as it is); to train on there, ' +
  'convert the saved running variance with convertRunningVar(values, from, to, batchSize).';

/**
 * PyTorch's `BatchNorm*d(eps, momentum)` for our options. PyTorch's running variance is always
 * unbiased: a `'biased'` layer throws `NOT_SUPPORTED` (its training would differ).
 */
export function toPyTorch(ours: BatchNormConventions): PyTorchBatchNormOptions {
  assertConventions(ours, 'conventions');
  if (ours.varianceCorrection !== 'unbiased') {
    throw cannot('conventions.varianceCorrection', 'PyTorch', '"unbiased"', ours.varianceCorrection, RUNNING_VAR_HINT);
  }
  return { momentum: ours.momentum, eps: ours.epsilon };
}

/** Keras and ONNX alike keep a biased running variance by an exponential average whose weight is on the old value. */
function complementedFor(library: 'Keras' | 'ONNX', ours: BatchNormConventions): { momentum: number; epsilon: number } {
  assertConventions(ours, 'conventions');
  if (ours.varianceCorrection !== 'biased') {
    throw cannot('conventions.varianceCorrection', library, '"biased"', ours.varianceCorrection, RUNNING_VAR_HINT);
  }
  if (ours.momentum === null) {
    throw cannot('conventions.momentum', library, 'a number', null, `${library} has no cumulative average: pick a momentum.`);
  }
  return { momentum: complementMomentum(ours.momentum), epsilon: ours.epsilon };
}

/** Keras's `BatchNormalization(momentum, epsilon)` for our options: biased, momentum not null. */
export function toKeras(ours: BatchNormConventions): KerasBatchNormOptions {
  return complementedFor('Keras', ours);
}

/** ONNX `BatchNormalization` attributes for our options: biased, momentum not null. */
export function toOnnx(ours: BatchNormConventions): OnnxBatchNormAttributes {
  return complementedFor('ONNX', ours);
}

/**
 * A running variance kept under one correction, as the other would have kept it: `unbiased =
 * m/(m−1)·biased`, where `batchSize` is `m`, the values per feature in each training batch (`N`
 * for `NC`, `N·∏spatial` otherwise). Exact when every batch had `m` values: the running average
 * is linear. Inference then normalizes with the converted values, as the other library would
 * have.
 */
export function convertRunningVar(
  runningVar: ArrayLike<number>,
  from: VarianceCorrection,
  to: VarianceCorrection,
  batchSize: number,
): Float64Array {
  for (const [value, argument] of [
    [from, 'from'],
    [to, 'to'],
  ] as const) {
    if (value !== 'unbiased' && value !== 'biased') {
      throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected: '"unbiased" or "biased"', received: describeValue(value) });
    }
  }
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 2) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'batchSize',
      expected: 'an integer ≥ 2 (the values per feature in each training batch)',
      received: describeValue(batchSize),
    });
  }
  const factor = from === to ? 1 : to === 'unbiased' ? batchSize / (batchSize - 1) : (batchSize - 1) / batchSize;
  return Float64Array.from(runningVar, (v) => v * factor);
}

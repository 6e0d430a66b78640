import { BatchNormError } from './errors.js';
import type { Layout, Shape, TensorData } from './types.js';

/** Version of the `Backend` contract; bumped on any breaking change to the interface. */
export const SPECIFICATION_VERSION = 'v1';
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

/**
 * An opaque tensor owned by a backend: a Float32Array, a gpu.js texture or a TensorFlow tensor
 * behind it. Only the backend that made it may read it, pass it to a kernel or dispose it.
 */
export interface TensorHandle {
  readonly shape: Shape;
}

/** Attributes of every batch-normalization kernel. */
export interface BatchNormAttrs {
  readonly layout: Layout;
  /** Added to the variance before the square root; finite and > 0. */
  readonly epsilon: number;
}

export interface BatchNormForwardTrainingInputs<T extends TensorHandle> {
  readonly x: T;
  /** Per-feature scale γ, length C. */
  readonly gamma: T;
  /** Per-feature shift β, length C. */
  readonly beta: T;
}

export interface BatchNormForwardTrainingOutputs<T extends TensorHandle> {
  /** `γ·x̂ + β`, the shape of `x`. */
  readonly y: T;
  /** Batch mean `μ_B` per feature, length C. */
  readonly mean: T;
  /** Biased batch variance `σ²_B = (1/m)·Σ(x − μ_B)²` per feature, length C. */
  readonly variance: T;
}

export interface BatchNormForwardInferenceInputs<T extends TensorHandle> {
  readonly x: T;
  readonly gamma: T;
  readonly beta: T;
  /** Population mean `E[x]`, length C. */
  readonly mean: T;
  /** Population variance `Var[x]`, length C (already corrected as the caller wants). */
  readonly variance: T;
}

export interface BatchNormBackwardInputs<T extends TensorHandle> {
  /** `∂l/∂y`, the shape of `x`. */
  readonly dy: T;
  /** The input of the training forward. */
  readonly x: T;
  readonly gamma: T;
  /** `mean` returned by the training forward on `x`. */
  readonly mean: T;
  /** `variance` (biased) returned by the training forward on `x`. */
  readonly variance: T;
}

export interface BatchNormBackwardOutputs<T extends TensorHandle> {
  readonly dx: T;
  readonly dgamma: T;
  readonly dbeta: T;
}

export interface RunningAverageInputs<T extends TensorHandle> {
  /** Current running statistic, length C. */
  readonly running: T;
  /** This batch's statistic, length C. */
  readonly batch: T;
}

export interface RunningAverageAttrs {
  /** Weight of the new batch statistic, in [0, 1]. */
  readonly factor: number;
  /** Multiplies the batch statistic first: `m/(m−1)` for an unbiased running variance, else 1. */
  readonly batchScale: number;
}

export interface MatMulAttrs {
  /** Use `aᵀ`: `a` is stored `[K, M]`. */
  readonly transposeA?: boolean;
  /** Use `bᵀ`: `b` is stored `[N, K]`. */
  readonly transposeB?: boolean;
}

export interface SoftmaxCrossEntropyOutputs<T extends TensorHandle> {
  /** Mean cross-entropy over the batch, shape `[1]`. */
  readonly loss: T;
  /** `∂loss/∂logits = (softmax(logits) − labels)/N`, shape `[N, K]`. */
  readonly dLogits: T;
}

/**
 * What a backend reports about itself for reports and logs, e.g. `{ mode: 'headlessgl' }`.
 */
export type BackendDetails = Readonly<Record<string, string | number | boolean>>;

/**
 * The kernels every backend implements. Kernels trust their inputs (the `BatchNorm` layer
 * validates once at its boundary), never mutate their inputs unless stated, and return new
 * handles that the caller owns and must `dispose`.
 *
 * Shapes: batch-norm tensors are in `attrs.layout` (`[N, C]`, `[N, C, H, W]` or `[N, H, W, C]`);
 * per-feature vectors are `[C]`. MLP tensors are row-major matrices `[rows, cols]`.
 */
export interface Backend<T extends TensorHandle = TensorHandle> {
  /** The registry name: `reference`, `js`, `gpujs`, `tfjs-node`, … */
  readonly name: string;
  readonly specificationVersion: SpecificationVersion;
  /** Precision of the kernels' arithmetic and of `read`'s result. */
  readonly dtype: 'float32' | 'float64';
  /** Facts for reports: the mode a GPU backend runs in, the engine's version, … */
  readonly details: BackendDetails;

  // --- tensors -------------------------------------------------------------------------------
  /** Copies host data to a new tensor; `data.length` must equal the product of `shape`. */
  upload(data: TensorData, shape: Shape): T;
  /** Copies a tensor back to the host. */
  read(t: T): Promise<TensorData>;
  /** `read`, synchronously; every engine we support allows it (WebGL, TensorFlow, CPU). */
  readSync(t: T): TensorData;
  /**
   * Optional: copies a tensor into `out`, a host array the caller owns and reuses (length equal to
   * the tensor's size). Writing fresh memory is costly, so a caller that reads every step should
   * reuse one buffer; core's `readInto(backend, t, out)` falls back to `readSync` where absent.
   */
  readInto?(t: T, out: TensorData): void;
  /** Releases a tensor. Disposing twice is allowed and does nothing. */
  dispose(t: T): void;
  /** Releases everything the backend holds (compiled kernels, pools). */
  destroy(): void;

  // --- batch normalization ------------------------------------------------------------------
  /** Normalizes `x` with its own batch statistics (paper Algorithm 1). */
  batchNormForwardTraining(
    inputs: BatchNormForwardTrainingInputs<T>,
    attrs: BatchNormAttrs,
  ): BatchNormForwardTrainingOutputs<T>;
  /** Normalizes `x` with population statistics (paper Algorithm 2). */
  batchNormForwardInference(inputs: BatchNormForwardInferenceInputs<T>, attrs: BatchNormAttrs): T;
  /** Gradients of the training forward: `dx`, `dγ = Σ dy·x̂`, `dβ = Σ dy`. */
  batchNormBackward(
    inputs: BatchNormBackwardInputs<T>,
    attrs: BatchNormAttrs,
  ): BatchNormBackwardOutputs<T>;
  /** `(1 − factor)·running + factor·batchScale·batch`, a new `[C]` tensor. */
  runningAverage(inputs: RunningAverageInputs<T>, attrs: RunningAverageAttrs): T;

  // --- the MLP kernels of a training step -----------------------------------------------------
  /** `op(a)·op(b)` with `op` the optional transpose: `[M, K]·[K, N] → [M, N]`. */
  matMul(a: T, b: T, attrs?: MatMulAttrs): T;
  /** `x + bias` row by row: `[N, C] + [C] → [N, C]`. */
  addBias(x: T, bias: T): T;
  /** Column sums `Σ_n x[n, c]`: `[N, C] → [C]` (the gradient of `addBias` w.r.t. `bias`). */
  sumRows(x: T): T;
  /** `1/(1 + e^(−x))`, elementwise. */
  sigmoid(x: T): T;
  /** `dy·y·(1 − y)` from the sigmoid's output `y`. */
  sigmoidBackward(dy: T, y: T): T;
  /** `max(x, 0)`, elementwise. */
  relu(x: T): T;
  /** `dy` where `x > 0`, else 0, from the ReLU's input `x`. */
  reluBackward(dy: T, x: T): T;
  /**
   * Softmax cross-entropy of `logits [N, K]` against `labels [N, K]`: one-hot, or soft labels
   * whose rows each sum to 1 (the gradient formula assumes it).
   */
  softmaxCrossEntropy(logits: T, labels: T): SoftmaxCrossEntropyOutputs<T>;
  /**
   * `param − learningRate·grad`. The backend may update `param` in place and return it, or
   * return a new tensor and dispose `param`: either way the caller treats `param` as consumed
   * and keeps the result.
   */
  sgdUpdate(param: T, grad: T, attrs: { readonly learningRate: number }): T;
}

/** Copies `t` into the caller's `out` through `backend.readInto`, or `readSync` where absent. */
export function readInto<T extends TensorHandle>(backend: Backend<T>, t: T, out: TensorData): void {
  let size = 1;
  for (const d of t.shape) size *= d;
  if (out.length !== size) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'out',
      expected: `${size} values for shape [${t.shape.join(', ')}]`,
      received: `${out.length} values`,
    });
  }
  if (backend.readInto !== undefined) backend.readInto(t, out);
  else out.set(backend.readSync(t));
}

/** The handle type of a backend. */
export type HandleOf<B> = B extends Backend<infer T> ? T : never;

/** Names of the kernels of the contract, for reports and skip lists. */
export const KERNEL_NAMES = [
  'batchNormForwardTraining',
  'batchNormForwardInference',
  'batchNormBackward',
  'runningAverage',
  'matMul',
  'addBias',
  'sumRows',
  'sigmoid',
  'sigmoidBackward',
  'relu',
  'reluBackward',
  'softmaxCrossEntropy',
  'sgdUpdate',
] as const satisfies readonly (keyof Backend)[];

export type KernelName = (typeof KERNEL_NAMES)[number];

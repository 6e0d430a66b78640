import type { Layout, Shape, TensorData } from './types.js';

/**
 * Version of the `Backend` contract; bumped on any breaking change to the interface.
 * v2: `read` is the one required read (`readSync`, `readInto` are optional capabilities), the
 * training forward returns an opaque `saved` that backward takes, and layouts have any rank.
 */
export const SPECIFICATION_VERSION = 'v2';
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

/**
 * An opaque tensor owned by a backend: a Float32Array, a gpu.js texture or a TensorFlow tensor
 * behind it. Only the backend instance that made it may read it, pass it to a kernel or dispose
 * it; anything else (another backend's or instance's tensor, a look-alike object, a disposed
 * tensor) is refused with `INVALID_HANDLE`. A handle is frozen: its `shape` never changes.
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

export interface BatchNormForwardTrainingOutputs<T extends TensorHandle, S = unknown> {
  /** `γ·x̂ + β`, the shape of `x`. */
  readonly y: T;
  /** Batch mean `μ_B` per feature, length C. */
  readonly mean: T;
  /** Biased batch variance `σ²_B = (1/m)·Σ(x − μ_B)²` per feature, length C. */
  readonly variance: T;
  /**
   * Whatever this backend's backward needs from the forward (float64 statistics, partial sums
   * on a GPU, an engine's reserve space). Opaque to everyone else; independent of `y`, `mean`
   * and `variance` (disposing those leaves it valid); released with `disposeSaved`.
   */
  readonly saved: S;
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

export interface BatchNormBackwardInputs<T extends TensorHandle, S = unknown> {
  /** `∂l/∂y`, the shape of `x`. */
  readonly dy: T;
  /** The input of the training forward. */
  readonly x: T;
  readonly gamma: T;
  /** `saved` of the training forward on `x`; backward reads it and leaves it valid. */
  readonly saved: S;
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
 * How a backend's kernel calls complete (its `completion`):
 * - `'on-return'`: the work is done when the call returns (loops in the call, helper threads
 *   joined before it returns, an engine's eager ops run inside it);
 * - `'queued'`: the call queues the work (a GPU's command queue) and returns before it is done.
 *   `read` still sees it; `onSubmittedWorkDone`, where the backend has it, waits for it without
 *   reading anything.
 */
export type KernelCompletion = 'on-return' | 'queued';

/**
 * The kernels every backend implements. Kernels trust their inputs' values and shapes (the
 * `BatchNorm` layer validates once at its boundary), never mutate their inputs unless stated, and
 * return new handles that the caller owns and must `dispose`. What they do not trust is that an
 * argument is a handle at all: every method refuses, in O(1) and before any work, a value that is
 * not a live tensor of this backend instance (`INVALID_HANDLE`, naming the argument), and a
 * `saved` it did not make or has released. `HandleRegistry.guard` does both for a backend.
 *
 * Shapes: batch-norm tensors are in `attrs.layout`, channels-first `[N, C, ...spatial]` or
 * channels-last `[N, ...spatial, C]` with 0 to 3 spatial axes (see `geometryOf`); per-feature
 * vectors are `[C]`. MLP tensors are row-major matrices `[rows, cols]`.
 *
 * `T` is the backend's tensor handle, `S` the opaque `saved` value of its training forward.
 */
export interface Backend<T extends TensorHandle = TensorHandle, S = unknown> {
  /** The registry name: `reference`, `js`, `gpujs`, `tfjs-node`, … */
  readonly name: string;
  readonly specificationVersion: SpecificationVersion;
  /** Precision of the kernels' arithmetic and of `read`'s result. */
  readonly dtype: 'float32' | 'float64';
  /** Facts for reports: the mode a GPU backend runs in, the engine's version, … */
  readonly details: BackendDetails;
  /**
   * How its kernel calls complete; an instance says it, since it may depend on how it was
   * created (gpu.js: `'on-return'` in its CPU mode, `'queued'` on WebGL). Optional within v2
   * (added after its release): where absent, nobody may assume the work is done on return.
   */
  readonly completion?: KernelCompletion;
  /**
   * Optional capability of a `'queued'` backend: settles once every kernel called before it has
   * finished, without reading anything (WebGPU's queue). For timing; `read` needs no wait.
   */
  onSubmittedWorkDone?(): Promise<void>;

  // --- tensors -------------------------------------------------------------------------------
  /**
   * Whether `value` is a live tensor of this backend instance: made by its `upload` or one of its
   * kernels, and not disposed (nor consumed by `sgdUpdate`). O(1). False for another backend's or
   * another instance's tensor and for look-alike objects. The `BatchNorm` layer checks every
   * tensor it is handed with it.
   */
  isTensor(value: unknown): value is T;
  /** Copies host data to a new tensor; `data.length` must equal the product of `shape`. */
  upload(data: TensorData, shape: Shape): T;
  /**
   * Copies a tensor back to the host: the one read every backend has. It sees every kernel
   * called before it, and the tensor may be disposed as soon as `read` returns (the promise
   * still settles).
   */
  read(t: T): Promise<TensorData>;
  /**
   * Optional capability: `read`, synchronously, where the engine allows it (CPU, WebGL,
   * TensorFlow; not WebGPU). Test with `hasSyncReads(backend)`.
   */
  readSync?(t: T): TensorData;
  /**
   * Optional capability: copies a tensor into `out`, a host array the caller owns and reuses
   * (length equal to the tensor's size). Writing fresh memory is costly, so a caller that reads
   * every step should reuse one buffer; core's `readInto(backend, t, out)` falls back to
   * `readSync` where absent.
   */
  readInto?(t: T, out: TensorData): void;
  /**
   * Optional capability of a float32 backend that keeps float64 values beside some tensors (js
   * keeps the per-feature vectors its kernels compute in float64): a new `Float64Array` of those
   * values where `t` has them, else of `read`'s values widened. Declaring it also promises that a
   * 1-D `Float64Array` given to `upload` is kept whole, so this returns it bit for bit.
   * `BatchNorm`'s `state()` reads the running statistics through it and `load()` uploads them as
   * `Float64Array`, so a saved state holds what the kernels compute with. A backend that keeps no
   * float64 values omits it (a float64 backend's `read` is already exact).
   */
  readFloat64?(t: T): Promise<Float64Array>;
  /**
   * Optional capability: `readFloat64`, synchronously. A backend with both `readSync` and
   * `readFloat64` declares it too, so `stateSync()` holds what `state()` holds.
   */
  readFloat64Sync?(t: T): Float64Array;
  /**
   * Releases a tensor. Disposing twice is allowed and does nothing; a tensor this instance never
   * made is refused (`INVALID_HANDLE`).
   */
  dispose(t: T): void;
  /** Releases a training forward's `saved`. Twice is allowed and does nothing; a foreign one is refused. */
  disposeSaved(saved: S): void;
  /** Releases everything the backend holds (compiled kernels, pools). */
  destroy(): void;

  // --- batch normalization ------------------------------------------------------------------
  /** Normalizes `x` with its own batch statistics (paper Algorithm 1). */
  batchNormForwardTraining(
    inputs: BatchNormForwardTrainingInputs<T>,
    attrs: BatchNormAttrs,
  ): BatchNormForwardTrainingOutputs<T, S>;
  /** Normalizes `x` with population statistics (paper Algorithm 2). */
  batchNormForwardInference(inputs: BatchNormForwardInferenceInputs<T>, attrs: BatchNormAttrs): T;
  /** Gradients of the training forward: `dx`, `dγ = Σ dy·x̂`, `dβ = Σ dy`. */
  batchNormBackward(
    inputs: BatchNormBackwardInputs<T, S>,
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

/** The handle type of a backend. */
export type HandleOf<B> = B extends Backend<infer T> ? T : never;
/** The `saved` type of a backend's training forward. */
export type SavedOf<B> = B extends Backend<TensorHandle, infer S> ? S : never;

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

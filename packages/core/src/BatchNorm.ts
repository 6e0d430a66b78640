import type { Backend, BatchNormAttrs, TensorHandle } from './backend.js';
import { hasSyncReads, type SyncBackend } from './reads.js';
import { assertFiniteGradients, assertFiniteStatistics, PendingChecks } from './finiteChecks.js';
import { assertGradientInput, assertSgdStep, assertTrainingBatch, checkedInput, syncBackendFor } from './layerChecks.js';
import { layerSettings, type BatchNormOptions } from './layerOptions.js';
import { LayerTensors } from './layerTensors.js';
import { checkedState, foldOf, stateOf, stateShape, type BatchNormState, type FoldedBatchNorm, type LayerScalars } from './layerState.js';
import { runningAverageAttrs } from './runningStatistics.js';
import type { Layout, VarianceCorrection } from './types.js';
import { invalid } from './validate.js';

export type { BatchNormOptions } from './layerOptions.js';
export type { BatchNormState, FoldedBatchNorm } from './layerState.js';

/**
 * A batch-normalization layer on any backend: γ, β, running statistics, train/eval modes.
 * Inputs are validated here, once; the backend's kernels trust them.
 *
 * Ownership: `forward` returns a new tensor the caller disposes. In training mode the layer
 * keeps a reference to `x` for `backward`: do not dispose `x` before calling `backward` (it then
 * throws `INVALID_HANDLE` naming `x`). Every tensor handed to the layer must be a live tensor of
 * its backend instance (`backend.isTensor`), else `INVALID_HANDLE`, and nothing changes.
 *
 * Reads: the layer only reads through `backend.read` (and `readFloat64` where declared), so it
 * works on backends that read asynchronously (WebGPU). `state()` and `fold()` are asynchronous;
 * `stateSync()` and `foldSync()` compile only for a backend whose type declares `readSync`.
 */
export class BatchNorm<T extends TensorHandle = TensorHandle, B extends Backend<T> = Backend<T>> {
  readonly backend: B;
  readonly numFeatures: number;
  readonly layout: Layout;
  readonly checkFinite: boolean;
  #epsilon: number;
  #momentum: number | null;
  #varianceCorrection: VarianceCorrection;
  #training = true;
  #numBatchesTracked = 0;
  /** γ, β, the running statistics, the saved batch and the gradients. */
  readonly #t: LayerTensors<T>;
  /** Finite checks still reading (asynchronous backends); `load` and `dispose` abandon them. */
  readonly #pending: PendingChecks<T>;

  constructor(backend: B & Backend<T>, options: BatchNormOptions) {
    // a backend of an earlier draft of contract v2 has no isTensor: say so, not a TypeError later
    if (typeof backend !== 'object' || backend === null || typeof backend.isTensor !== 'function') {
      throw invalid('backend', 'a Backend of contract v2 (with isTensor; see core\'s README, "Migrating")', backend);
    }
    const { numFeatures, layout, epsilon, momentum, varianceCorrection, checkFinite, gamma, beta } = layerSettings(
      options,
      backend.dtype,
    );
    this.backend = backend;
    this.numFeatures = numFeatures;
    this.layout = layout;
    this.checkFinite = checkFinite;
    this.#epsilon = epsilon;
    this.#momentum = momentum;
    this.#varianceCorrection = varianceCorrection;
    const runningMean = new Float64Array(numFeatures);
    const runningVar = new Float64Array(numFeatures).fill(1);
    this.#t = new LayerTensors<T>(backend, { gamma, beta, runningMean, runningVar });
    this.#pending = new PendingChecks<T>(backend, (rollback) => {
      this.#t.restore(rollback);
      this.#numBatchesTracked = rollback.batchesBefore;
    });
  }

  /** Restores a layer from `state()` output on `backend`. */
  static fromState<T extends TensorHandle, B extends Backend<T>>(
    backend: B & Backend<T>,
    state: BatchNormState,
  ): BatchNorm<T, B> {
    const layer = new BatchNorm<T, B>(backend, stateShape(state));
    layer.load(state);
    return layer;
  }

  get epsilon(): number {
    return this.#epsilon;
  }
  get momentum(): number | null {
    return this.#momentum;
  }
  get varianceCorrection(): VarianceCorrection {
    return this.#varianceCorrection;
  }
  get training(): boolean {
    return this.#training;
  }
  get numBatchesTracked(): number {
    return this.#numBatchesTracked;
  }
  get gamma(): T {
    return this.#t.gamma;
  }
  get beta(): T {
    return this.#t.beta;
  }
  get runningMean(): T {
    return this.#t.runningMean;
  }
  get runningVar(): T {
    return this.#t.runningVar;
  }
  /** `dγ`, `dβ` of the last `backward`, until the next one. */
  get gradients(): { readonly gamma: T; readonly beta: T } | undefined {
    return this.#t.gradients;
  }

  /** Training mode: normalize with batch statistics and update the running ones. */
  train(): this {
    this.#training = true;
    return this;
  }

  /** Inference mode: normalize with the running (population) statistics. */
  eval(): this {
    this.#training = false;
    this.#t.releaseSaved();
    return this;
  }

  get #attrs(): BatchNormAttrs {
    return { layout: this.layout, epsilon: this.#epsilon };
  }

  /** Batch-normalizes `x` (in `layout`); returns a new tensor. */
  forward(x: T): T {
    this.#pending.throwFailure();
    const geometry = checkedInput(this.backend, x, 'x', this.layout, this.numFeatures);
    const b: Backend<T> = this.backend;
    if (!this.#training) {
      const { gamma, beta, runningMean: mean, runningVar: variance } = this.#t;
      return b.batchNormForwardInference({ x, gamma, beta, mean, variance }, this.#attrs);
    }
    assertTrainingBatch(x.shape, geometry.m);
    const { y, mean, variance, saved } = b.batchNormForwardTraining({ x, gamma: this.#t.gamma, beta: this.#t.beta }, this.#attrs);
    const checkNow = this.checkFinite && hasSyncReads(b);
    if (checkNow) {
      try {
        assertFiniteStatistics(b.readSync(mean), b.readSync(variance));
      } catch (error) {
        for (const t of [y, mean, variance]) b.dispose(t);
        b.disposeSaved(saved);
        throw error;
      }
    }
    const factor = this.#momentum ?? 1 / (this.#numBatchesTracked + 1);
    const attrs = runningAverageAttrs(factor, this.#varianceCorrection, geometry.m);
    const runningMean = b.runningAverage({ running: this.#t.runningMean, batch: mean }, attrs.mean);
    const runningVar = b.runningAverage({ running: this.#t.runningVar, batch: variance }, attrs.variance);
    if (this.checkFinite && !checkNow) {
      // keep the statistics before this batch until its check settles
      const batch = this.#numBatchesTracked + 1;
      this.#pending.start(
        Promise.all([b.read(mean), b.read(variance)]).then(([m, v]) => assertFiniteStatistics(m, v, batch)),
        this.#numBatchesTracked,
        { runningMean: this.#t.runningMean, runningVar: this.#t.runningVar },
      );
    } else {
      b.dispose(this.#t.runningMean);
      b.dispose(this.#t.runningVar);
    }
    b.dispose(mean);
    b.dispose(variance);
    this.#t.runningMean = runningMean;
    this.#t.runningVar = runningVar;
    this.#numBatchesTracked += 1;
    this.#t.releaseSaved();
    this.#t.saved = { x, saved };
    return y;
  }

  /**
   * Waits until the finite check of every training batch so far has settled. Resolves on a
   * synchronous backend at once (its checks run inside `forward`).
   *
   * On an asynchronous backend a batch with a NaN or ±Infinity statistic (argument `x`), or a
   * `dy` with non-finite gradients (argument `dy`), is reported as a `BatchNormError`
   * (`NON_FINITE_INPUT`) by whichever comes first: `settle()`, `state()`, `fold()`, or any
   * `forward`/`backward`/`sgdStep` called after its check settled. It is reported once. The
   * layer is then as it was just before that `forward` or `backward`: running statistics,
   * `numBatchesTracked`, γ and β restored (later calls are dropped with it, since they built on
   * it), and the saved batch and gradients released.
   */
  async settle(): Promise<void> {
    await this.#pending.settled;
    this.#pending.throwFailure();
  }

  /**
   * Back-propagates `dy` through the last training `forward`; returns `dx` and keeps `dγ`, `dβ`
   * in `gradients`.
   */
  backward(dy: T): T {
    this.#pending.throwFailure();
    const { x, saved } = this.#t.saved ?? {};
    assertGradientInput(this.backend, dy, x, this.#training);
    const b: Backend<T> = this.backend;
    const { dx, dgamma, dbeta } = b.batchNormBackward({ dy, x, gamma: this.#t.gamma, saved }, this.#attrs);
    // a NaN or ±Infinity in dy shows in Σdy (dβ) or Σdy·x̂ (dγ): C values each, not a pass over dy
    if (this.checkFinite && hasSyncReads(b)) {
      try {
        assertFiniteGradients(b.readSync(dgamma), b.readSync(dbeta));
      } catch (error) {
        for (const t of [dx, dgamma, dbeta]) b.dispose(t);
        throw error;
      }
    } else if (this.checkFinite) {
      const batch = this.#numBatchesTracked;
      this.#pending.start(
        Promise.all([b.read(dgamma), b.read(dbeta)]).then(([g, d]) => assertFiniteGradients(g, d, batch)),
        batch,
        { runningMean: undefined, runningVar: undefined },
      );
    }
    this.#t.releaseGradients();
    this.#t.gradients = { gamma: dgamma, beta: dbeta };
    return dx;
  }

  /** One SGD step on γ and β with the gradients of the last `backward`. */
  sgdStep(learningRate: number): void {
    this.#pending.throwFailure();
    const grads = this.#t.gradients;
    assertSgdStep(learningRate, grads);
    this.#pending.keepParameters(this.#t.gamma, this.#t.beta);
    this.#t.gamma = this.backend.sgdUpdate(this.#t.gamma, grads.gamma, { learningRate });
    this.#t.beta = this.backend.sgdUpdate(this.#t.beta, grads.beta, { learningRate });
  }

  /**
   * The layer's parameters and statistics as plain JSON (`batchnorm-state/1`), read after every
   * pending finite check has settled (so it never holds a rejected batch). The running statistics
   * are read through `readFloat64` on a backend that declares it (js keeps them in float64), so
   * `load()` of this state continues them bit for bit.
   */
  async state(): Promise<BatchNormState> {
    await this.settle();
    return stateOf(this.#scalars, await this.#t.read());
  }

  /** `state()`, synchronously: only on a backend that declares `readSync` (`readFloat64Sync` too, where declared). */
  stateSync(this: BatchNorm<T, SyncBackend<T>>): BatchNormState {
    const b = syncBackendFor<T>(this.backend, 'stateSync');
    this.#pending.throwFailure();
    return stateOf(this.#scalars, this.#t.readSync(b));
  }

  /**
   * Restores `state()` output. Everything is validated before anything changes: a rejected
   * state leaves the layer as it was. The running statistics are uploaded as `Float64Array` to a
   * backend that declares `readFloat64`, γ and β in the backend's dtype.
   */
  load(state: BatchNormState): void {
    const loaded = checkedState(state, this.numFeatures, this.layout, this.backend.dtype);
    this.#pending.abandon();
    this.#t.replace(loaded);
    this.#epsilon = loaded.epsilon;
    this.#momentum = loaded.momentum;
    this.#varianceCorrection = loaded.varianceCorrection;
    this.#numBatchesTracked = loaded.numBatchesTracked;
  }

  /**
   * Inference as one affine map per feature: `scale = γ/√(Var+ε)`, `shift = β − scale·E[x]`,
   * read after every pending finite check has settled.
   */
  async fold(): Promise<FoldedBatchNorm> {
    await this.settle();
    return foldOf(await this.#t.read(), this.#epsilon);
  }

  /** `fold()`, synchronously: only on a backend that declares `readSync`. */
  foldSync(this: BatchNorm<T, SyncBackend<T>>): FoldedBatchNorm {
    const b = syncBackendFor<T>(this.backend, 'foldSync');
    this.#pending.throwFailure();
    return foldOf(this.#t.readSync(b), this.#epsilon);
  }

  get #scalars(): LayerScalars {
    return {
      numFeatures: this.numFeatures,
      layout: this.layout,
      epsilon: this.#epsilon,
      momentum: this.#momentum,
      varianceCorrection: this.#varianceCorrection,
      numBatchesTracked: this.#numBatchesTracked,
    };
  }

  /** Releases every tensor the layer owns. */
  dispose(): void {
    this.#pending.abandon();
    this.#t.dispose();
  }
}

import { hasSyncReads, type Backend, type BatchNormAttrs, type SyncBackend, type TensorHandle } from './backend.js';
import { BatchNormError, describeValue } from './errors.js';
import { assertTensor } from './handles.js';
import { assertLayout, geometryOf } from './layout.js';
import { runningAverageAttrs } from './runningStatistics.js';
import type { Layout, VarianceCorrection } from './types.js';
import {
  assertEpsilon,
  assertMomentum,
  assertPositiveInteger,
  assertVarianceCorrection,
  invalid,
  sameShape,
  toFeatureVector,
} from './validate.js';

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

interface SavedBatch<T> {
  readonly x: T;
  /** The backend's opaque `saved` of this forward. */
  readonly saved: unknown;
}

/**
 * The layer as it was before a call (a training `forward`, or a `backward`) whose finite check
 * has not settled yet (asynchronous backends only): what a non-finite verdict restores. Kept
 * lazily: the running statistics by the forward that replaced them, γ and β by the first
 * `sgdStep` after the call.
 */
interface Unchecked<T> {
  /** `numBatchesTracked` before the call. */
  readonly batchesBefore: number;
  readonly runningMean: T | undefined;
  readonly runningVar: T | undefined;
  gamma: T | undefined;
  beta: T | undefined;
}

/**
 * A batch-normalization layer on any backend: γ, β, running statistics, train/eval modes.
 * Inputs are validated here, once; the backend's kernels trust them.
 *
 * Ownership: `forward` returns a new tensor the caller disposes. In training mode the layer
 * keeps a reference to `x` for `backward`: do not dispose `x` before calling `backward` (it then
 * throws `INVALID_HANDLE` naming `x`). Every tensor handed to the layer must be a live tensor of
 * its backend instance (`backend.isTensor`), else `INVALID_HANDLE`, and nothing changes.
 *
 * Reads: the layer only reads through `backend.read`, so it works on backends that read
 * asynchronously (WebGPU). `state()` and `fold()` are asynchronous; `stateSync()` and
 * `foldSync()` compile only for a backend whose type declares `readSync`.
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
  #gamma: T;
  #beta: T;
  #runningMean: T;
  #runningVar: T;
  #numBatchesTracked = 0;
  #saved: SavedBatch<T> | undefined;
  #gradients: { gamma: T; beta: T } | undefined;
  /** Batches whose finite check is still reading, oldest first (asynchronous backends). */
  #unchecked: Unchecked<T>[] = [];
  /** Settles when every check started so far has been applied; never rejects. */
  #checks: Promise<void> = Promise.resolve();
  /** A non-finite batch found by an asynchronous check, thrown by the next call. */
  #failure: unknown;
  /** Bumped by `load` and `dispose`: checks started before are then ignored. */
  #generation = 0;

  constructor(backend: B & Backend<T>, options: BatchNormOptions) {
    // a backend of an earlier draft of contract v2 has no isTensor: say so, not a TypeError later
    if (typeof backend !== 'object' || backend === null || typeof backend.isTensor !== 'function') {
      throw invalid('backend', 'a Backend of contract v2 (with isTensor; see core\'s README, "Migrating")', backend);
    }
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
    const dtype = backend.dtype;
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
    this.backend = backend;
    this.numFeatures = numFeatures;
    this.layout = layout;
    this.checkFinite = checkFinite;
    this.#epsilon = epsilon;
    this.#momentum = momentum;
    this.#varianceCorrection = varianceCorrection;
    this.#gamma = this.#upload(gamma);
    this.#beta = this.#upload(beta);
    this.#runningMean = this.#upload(new Float64Array(numFeatures));
    this.#runningVar = this.#upload(new Float64Array(numFeatures).fill(1));
  }

  /** Restores a layer from `state()` output on `backend`. */
  static fromState<T extends TensorHandle, B extends Backend<T>>(
    backend: B & Backend<T>,
    state: BatchNormState,
  ): BatchNorm<T, B> {
    if (typeof state !== 'object' || state === null) {
      throw invalid('state', 'an object of schema "batchnorm-state/1"', state);
    }
    // checked here so the error names the state's field, not a constructor option
    assertPositiveInteger(state.numFeatures, 'state.numFeatures');
    assertLayout(state.layout, 'state.layout');
    const layer = new BatchNorm<T, B>(backend, { numFeatures: state.numFeatures, layout: state.layout });
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
    return this.#gamma;
  }
  get beta(): T {
    return this.#beta;
  }
  get runningMean(): T {
    return this.#runningMean;
  }
  get runningVar(): T {
    return this.#runningVar;
  }
  /** `dγ`, `dβ` of the last `backward`, until the next one. */
  get gradients(): { readonly gamma: T; readonly beta: T } | undefined {
    return this.#gradients;
  }

  /** Training mode: normalize with batch statistics and update the running ones. */
  train(): this {
    this.#training = true;
    return this;
  }

  /** Inference mode: normalize with the running (population) statistics. */
  eval(): this {
    this.#training = false;
    this.#releaseSaved();
    return this;
  }

  get #attrs(): BatchNormAttrs {
    return { layout: this.layout, epsilon: this.#epsilon };
  }

  /** Batch-normalizes `x` (in `layout`); returns a new tensor. */
  forward(x: T): T {
    this.#throwFailure();
    const geometry = this.#checkInput(x, 'x');
    const b: Backend<T> = this.backend;
    if (!this.#training) {
      return b.batchNormForwardInference(
        {
          x,
          gamma: this.#gamma,
          beta: this.#beta,
          mean: this.#runningMean,
          variance: this.#runningVar,
        },
        this.#attrs,
      );
    }
    if (geometry.m < 2) {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: 'x.shape',
        expected: 'at least 2 values per feature in training (m = N·spatial ≥ 2)',
        received: `[${x.shape.join(', ')}] (m = ${geometry.m})`,
        hint: 'A batch of one has no variance; use eval() for single samples.',
      });
    }
    const { y, mean, variance, saved } = b.batchNormForwardTraining(
      { x, gamma: this.#gamma, beta: this.#beta },
      this.#attrs,
    );
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
    const runningMean = b.runningAverage({ running: this.#runningMean, batch: mean }, attrs.mean);
    const runningVar = b.runningAverage({ running: this.#runningVar, batch: variance }, attrs.variance);
    if (this.checkFinite && !checkNow) {
      // keep the statistics before this batch until its check settles
      const batch = this.#numBatchesTracked + 1;
      this.#startCheck(
        Promise.all([b.read(mean), b.read(variance)]).then(([m, v]) => assertFiniteStatistics(m, v, batch)),
        { runningMean: this.#runningMean, runningVar: this.#runningVar },
      );
    } else {
      b.dispose(this.#runningMean);
      b.dispose(this.#runningVar);
    }
    b.dispose(mean);
    b.dispose(variance);
    this.#runningMean = runningMean;
    this.#runningVar = runningVar;
    this.#numBatchesTracked += 1;
    this.#releaseSaved();
    this.#saved = { x, saved };
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
    await this.#checks;
    this.#throwFailure();
  }

  /**
   * Back-propagates `dy` through the last training `forward`; returns `dx` and keeps `dγ`, `dβ`
   * in `gradients`.
   */
  backward(dy: T): T {
    this.#throwFailure();
    const saved = this.#saved;
    if (saved === undefined) {
      throw new BatchNormError({
        code: 'INVALID_STATE',
        argument: 'dy',
        expected: 'a training-mode forward() before backward()',
        received: this.#training ? 'no forward since the last state change' : 'a layer in eval mode',
      });
    }
    if (typeof dy !== 'object' || dy === null || !Array.isArray(dy.shape)) {
      throw invalid('dy', `a tensor of backend "${this.backend.name}"`, dy);
    }
    assertTensor(this.backend, dy, 'dy');
    if (!sameShape(dy.shape, saved.x.shape)) {
      throw new BatchNormError({
        code: 'SHAPE_MISMATCH',
        argument: 'dy.shape',
        expected: `the shape of the forward input [${saved.x.shape.join(', ')}]`,
        received: describeShape(dy.shape),
      });
    }
    const b: Backend<T> = this.backend;
    const { dx, dgamma, dbeta } = b.batchNormBackward(
      { dy, x: saved.x, gamma: this.#gamma, saved: saved.saved },
      this.#attrs,
    );
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
      this.#startCheck(
        Promise.all([b.read(dgamma), b.read(dbeta)]).then(([g, d]) => assertFiniteGradients(g, d, batch)),
        { runningMean: undefined, runningVar: undefined },
      );
    }
    this.#releaseGradients();
    this.#gradients = { gamma: dgamma, beta: dbeta };
    return dx;
  }

  /** One SGD step on γ and β with the gradients of the last `backward`. */
  sgdStep(learningRate: number): void {
    this.#throwFailure();
    if (typeof learningRate !== 'number' || !Number.isFinite(learningRate)) {
      throw invalid('learningRate', 'a finite number', learningRate);
    }
    const grads = this.#gradients;
    if (grads === undefined) {
      throw new BatchNormError({
        code: 'INVALID_STATE',
        argument: 'gradients',
        expected: 'a backward() before sgdStep()',
        received: 'no gradients',
      });
    }
    this.#keepParametersForUnchecked();
    this.#gamma = this.backend.sgdUpdate(this.#gamma, grads.gamma, { learningRate });
    this.#beta = this.backend.sgdUpdate(this.#beta, grads.beta, { learningRate });
  }

  /**
   * The layer's parameters and statistics as plain JSON (`batchnorm-state/1`), read after every
   * pending finite check has settled (so it never holds a rejected batch).
   */
  async state(): Promise<BatchNormState> {
    await this.settle();
    const b = this.backend;
    const [gamma, beta, runningMean, runningVar] = await Promise.all(
      [this.#gamma, this.#beta, this.#runningMean, this.#runningVar].map((t) => b.read(t)),
    );
    return this.#stateOf(gamma!, beta!, runningMean!, runningVar!);
  }

  /** `state()`, synchronously: only on a backend that declares `readSync`. */
  stateSync(this: BatchNorm<T, SyncBackend<T>>): BatchNormState {
    const b = this.#syncBackend('stateSync');
    this.#throwFailure();
    return this.#stateOf(
      b.readSync(this.#gamma),
      b.readSync(this.#beta),
      b.readSync(this.#runningMean),
      b.readSync(this.#runningVar),
    );
  }

  #stateOf(
    gamma: ArrayLike<number>,
    beta: ArrayLike<number>,
    runningMean: ArrayLike<number>,
    runningVar: ArrayLike<number>,
  ): BatchNormState {
    return {
      schema: 'batchnorm-state/1',
      numFeatures: this.numFeatures,
      layout: this.layout,
      epsilon: this.#epsilon,
      momentum: this.#momentum,
      varianceCorrection: this.#varianceCorrection,
      gamma: Array.from(gamma),
      beta: Array.from(beta),
      runningMean: Array.from(runningMean),
      runningVar: Array.from(runningVar),
      numBatchesTracked: this.#numBatchesTracked,
    };
  }

  /**
   * Restores `state()` output. Everything is validated before anything changes: a rejected
   * state leaves the layer as it was.
   */
  load(state: BatchNormState): void {
    if (typeof state !== 'object' || state === null) {
      throw invalid('state', 'an object of schema "batchnorm-state/1"', state);
    }
    if (state.schema !== 'batchnorm-state/1') {
      throw invalid('state.schema', '"batchnorm-state/1"', state.schema);
    }
    if (state.numFeatures !== this.numFeatures) {
      throw new BatchNormError({
        code: 'SHAPE_MISMATCH',
        argument: 'state.numFeatures',
        expected: String(this.numFeatures),
        received: describeValue(state.numFeatures),
      });
    }
    if (state.layout !== this.layout) {
      throw invalid('state.layout', `"${this.layout}" (the layer's layout)`, state.layout);
    }
    const dtype = this.backend.dtype;
    assertEpsilon(state.epsilon, 'state.epsilon', dtype);
    assertMomentum(state.momentum, 'state.momentum');
    assertVarianceCorrection(state.varianceCorrection, 'state.varianceCorrection');
    const c = this.numFeatures;
    const gamma = toFeatureVector(state.gamma, c, 'state.gamma', { dtype });
    const beta = toFeatureVector(state.beta, c, 'state.beta', { dtype });
    const runningMean = toFeatureVector(state.runningMean, c, 'state.runningMean', { dtype });
    const runningVar = toFeatureVector(state.runningVar, c, 'state.runningVar', {
      nonNegative: true,
      dtype,
    });
    const tracked = state.numBatchesTracked;
    if (typeof tracked !== 'number' || !Number.isInteger(tracked) || tracked < 0) {
      throw invalid('state.numBatchesTracked', 'an integer ≥ 0', tracked);
    }
    const b = this.backend;
    for (const t of [this.#gamma, this.#beta, this.#runningMean, this.#runningVar]) b.dispose(t);
    this.#abandonChecks();
    this.#releaseSaved();
    this.#releaseGradients();
    this.#gamma = this.#upload(gamma);
    this.#beta = this.#upload(beta);
    this.#runningMean = this.#upload(runningMean);
    this.#runningVar = this.#upload(runningVar);
    this.#epsilon = state.epsilon;
    this.#momentum = state.momentum;
    this.#varianceCorrection = state.varianceCorrection;
    this.#numBatchesTracked = tracked;
  }

  /**
   * Inference as one affine map per feature: `scale = γ/√(Var+ε)`, `shift = β − scale·E[x]`,
   * read after every pending finite check has settled.
   */
  async fold(): Promise<FoldedBatchNorm> {
    await this.settle();
    const b = this.backend;
    const [gamma, beta, mean, variance] = await Promise.all(
      [this.#gamma, this.#beta, this.#runningMean, this.#runningVar].map((t) => b.read(t)),
    );
    return foldStatistics(gamma!, beta!, mean!, variance!, this.#epsilon);
  }

  /** `fold()`, synchronously: only on a backend that declares `readSync`. */
  foldSync(this: BatchNorm<T, SyncBackend<T>>): FoldedBatchNorm {
    const b = this.#syncBackend('foldSync');
    this.#throwFailure();
    return foldStatistics(
      b.readSync(this.#gamma),
      b.readSync(this.#beta),
      b.readSync(this.#runningMean),
      b.readSync(this.#runningVar),
      this.#epsilon,
    );
  }

  /** Releases every tensor the layer owns. */
  dispose(): void {
    this.#abandonChecks();
    this.#releaseSaved();
    this.#releaseGradients();
    for (const t of [this.#gamma, this.#beta, this.#runningMean, this.#runningVar]) {
      this.backend.dispose(t);
    }
  }

  #upload(values: Float64Array): T {
    const data = this.backend.dtype === 'float64' ? values : Float32Array.from(values);
    return this.backend.upload(data, [values.length]);
  }

  #checkInput(x: T, argument: string) {
    if (typeof x !== 'object' || x === null || !Array.isArray(x.shape)) {
      throw invalid(argument, `a tensor of backend "${this.backend.name}"`, x);
    }
    // before its shape is trusted: a look-alike or foreign tensor is refused whatever its shape
    assertTensor(this.backend, x, argument);
    const geometry = geometryOf(this.layout, x.shape, `${argument}.shape`);
    if (geometry.c !== this.numFeatures) {
      throw new BatchNormError({
        code: 'SHAPE_MISMATCH',
        argument: `${argument}.shape`,
        expected: `C = ${this.numFeatures} features in layout ${this.layout}`,
        received: `${describeShape(x.shape)} (C = ${geometry.c})`,
      });
    }
    return geometry;
  }

  #syncBackend(method: string): SyncBackend<T> {
    const b: Backend<T> = this.backend;
    if (hasSyncReads(b)) return b;
    throw new BatchNormError({
      code: 'NOT_SUPPORTED',
      argument: 'backend',
      expected: `a backend that declares readSync for ${method}()`,
      received: `backend "${b.name}", which reads asynchronously only`,
      hint: `Use await layer.${method.replace('Sync', '')}() instead.`,
    });
  }

  /**
   * Queues the asynchronous finite check of the call just made: `verdict` rejects when it found
   * a non-finite value; `running` holds the running statistics it replaced, if it did.
   */
  #startCheck(
    verdict: Promise<void>,
    running: { runningMean: T | undefined; runningVar: T | undefined },
  ): void {
    const generation = this.#generation;
    const entry: Unchecked<T> = {
      batchesBefore: this.#numBatchesTracked,
      ...running,
      gamma: undefined,
      beta: undefined,
    };
    this.#unchecked.push(entry);
    // checks are applied in call order, whatever order the reads finish in
    this.#checks = this.#checks
      .then(() => verdict)
      .then(
        () => {
          if (generation === this.#generation) this.#passCheck(entry);
        },
        (error: unknown) => {
          if (generation === this.#generation) this.#failCheck(entry, error);
        },
      );
  }

  /** The oldest unchecked call was finite: what it kept is no longer needed. */
  #passCheck(entry: Unchecked<T>): void {
    if (this.#unchecked[0] !== entry) return; // discarded by an earlier failure
    this.#unchecked.shift();
    this.#disposeUnchecked(entry);
  }

  /** Restores the layer to before `entry`'s call and drops every later unchecked call. */
  #failCheck(entry: Unchecked<T>, error: unknown): void {
    if (this.#unchecked[0] !== entry) return;
    const b = this.backend;
    const all = this.#unchecked;
    this.#unchecked = [];
    // what was current at entry's call is the first copy kept at or after it
    const running = all.find((e) => e.runningMean !== undefined);
    const parameters = all.find((e) => e.gamma !== undefined);
    for (const e of all) {
      if (e !== running) for (const t of [e.runningMean, e.runningVar]) if (t !== undefined) b.dispose(t);
      if (e !== parameters) for (const t of [e.gamma, e.beta]) if (t !== undefined) b.dispose(t);
    }
    if (running?.runningMean !== undefined && running.runningVar !== undefined) {
      b.dispose(this.#runningMean);
      b.dispose(this.#runningVar);
      this.#runningMean = running.runningMean;
      this.#runningVar = running.runningVar;
    }
    if (parameters?.gamma !== undefined && parameters.beta !== undefined) {
      b.dispose(this.#gamma);
      b.dispose(this.#beta);
      this.#gamma = parameters.gamma;
      this.#beta = parameters.beta;
    }
    this.#numBatchesTracked = entry.batchesBefore;
    this.#releaseSaved();
    this.#releaseGradients();
    this.#failure ??= error;
  }

  #disposeUnchecked(entry: Unchecked<T>): void {
    for (const t of [entry.runningMean, entry.runningVar, entry.gamma, entry.beta]) {
      if (t !== undefined) this.backend.dispose(t);
    }
  }

  /**
   * Before γ and β change after an unchecked call, keep copies for its rollback. A backend may
   * update in place, and the contract has no copy kernel: `runningAverage` with factor 0 is an
   * exact one (`1·γ + 0·γ`).
   */
  #keepParametersForUnchecked(): void {
    const newest = this.#unchecked.at(-1);
    if (newest === undefined || newest.gamma !== undefined) return;
    const copy = (t: T): T =>
      this.backend.runningAverage({ running: t, batch: t }, { factor: 0, batchScale: 1 });
    newest.gamma = copy(this.#gamma);
    newest.beta = copy(this.#beta);
  }

  /** Ignores every pending check (their verdicts no longer apply) and frees their copies. */
  #abandonChecks(): void {
    this.#generation += 1;
    for (const entry of this.#unchecked) this.#disposeUnchecked(entry);
    this.#unchecked = [];
    this.#checks = Promise.resolve();
    this.#failure = undefined;
  }

  #throwFailure(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    throw failure;
  }

  #releaseSaved(): void {
    if (this.#saved === undefined) return;
    this.backend.disposeSaved(this.#saved.saved);
    this.#saved = undefined;
  }

  #releaseGradients(): void {
    if (this.#gradients === undefined) return;
    this.backend.dispose(this.#gradients.gamma);
    this.backend.dispose(this.#gradients.beta);
    this.#gradients = undefined;
  }
}

/** Throws `NON_FINITE_INPUT` (argument `dy`) unless every dγ and dβ is finite. */
function assertFiniteGradients(dgamma: ArrayLike<number>, dbeta: ArrayLike<number>, batch?: number): void {
  for (let k = 0; k < dgamma.length; k++) {
    if (!Number.isFinite(dgamma[k]!) || !Number.isFinite(dbeta[k]!)) {
      throw new BatchNormError({
        code: 'NON_FINITE_INPUT',
        argument: 'dy',
        expected: 'finite values (a finite Σdy and Σdy·x̂ for every feature)',
        received: `${batch === undefined ? '' : `backward of training batch ${batch}: `}feature ${k} with dγ ${describeValue(dgamma[k])} and dβ ${describeValue(dbeta[k])}`,
        hint:
          batch === undefined
            ? 'γ, β and the gradients of the last backward were left unchanged.'
            : 'The layer was restored to before that backward (γ and β; later calls dropped).',
      });
    }
  }
}

/** Throws `NON_FINITE_INPUT` unless every batch mean and variance is finite. */
function assertFiniteStatistics(
  means: ArrayLike<number>,
  variances: ArrayLike<number>,
  batch?: number,
): void {
  for (let k = 0; k < means.length; k++) {
    if (!Number.isFinite(means[k]!) || !Number.isFinite(variances[k]!)) {
      throw new BatchNormError({
        code: 'NON_FINITE_INPUT',
        argument: 'x',
        expected: 'finite values (a finite batch mean and variance for every feature)',
        received: `${batch === undefined ? '' : `training batch ${batch}: `}feature ${k} with mean ${describeValue(means[k])} and variance ${describeValue(variances[k])}`,
        hint:
          batch === undefined
            ? 'The running statistics were left unchanged.'
            : 'The layer was restored to before that batch (running statistics, numBatchesTracked, γ and β).',
      });
    }
  }
}

function foldStatistics(
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  epsilon: number,
): FoldedBatchNorm {
  const scale = new Float64Array(gamma.length);
  const shift = new Float64Array(gamma.length);
  for (let k = 0; k < gamma.length; k++) {
    scale[k] = gamma[k]! / Math.sqrt(variance[k]! + epsilon);
    shift[k] = beta[k]! - scale[k]! * mean[k]!;
  }
  return { scale, shift };
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

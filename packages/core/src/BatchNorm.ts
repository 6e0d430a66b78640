import type { Backend, BatchNormAttrs, TensorHandle } from './backend.js';
import { BatchNormError, describeValue } from './errors.js';
import { assertLayout, geometryOf } from './layout.js';
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
   * Reject a training batch whose statistics are not finite (default true). It reads the
   * C-length batch mean and variance back to the host: turn it off to keep a training step
   * entirely on a device.
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
  readonly mean: T;
  readonly variance: T;
}

/**
 * A batch-normalization layer on any backend: γ, β, running statistics, train/eval modes.
 * Inputs are validated here, once; the backend's kernels trust them.
 *
 * Ownership: `forward` returns a new tensor the caller disposes. In training mode the layer
 * keeps a reference to `x` for `backward`: do not dispose `x` before calling `backward`.
 */
export class BatchNorm<T extends TensorHandle = TensorHandle> {
  readonly backend: Backend<T>;
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

  constructor(backend: Backend<T>, options: BatchNormOptions) {
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
    assertEpsilon(epsilon);
    assertMomentum(momentum);
    assertVarianceCorrection(varianceCorrection);
    if (typeof checkFinite !== 'boolean') throw invalid('checkFinite', 'true or false', checkFinite);
    const gamma =
      options.gamma === undefined
        ? new Float64Array(numFeatures).fill(1)
        : toFeatureVector(options.gamma, numFeatures, 'gamma');
    const beta =
      options.beta === undefined
        ? new Float64Array(numFeatures)
        : toFeatureVector(options.beta, numFeatures, 'beta');
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
  static fromState<T extends TensorHandle>(backend: Backend<T>, state: BatchNormState): BatchNorm<T> {
    if (typeof state !== 'object' || state === null) {
      throw invalid('state', 'an object of schema "batchnorm-state/1"', state);
    }
    // checked here so the error names the state's field, not a constructor option
    assertPositiveInteger(state.numFeatures, 'state.numFeatures');
    assertLayout(state.layout, 'state.layout');
    const layer = new BatchNorm(backend, { numFeatures: state.numFeatures, layout: state.layout });
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
    const geometry = this.#checkInput(x, 'x');
    const b = this.backend;
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
        expected: 'at least 2 values per feature in training (m = N·H·W ≥ 2)',
        received: `[${x.shape.join(', ')}] (m = ${geometry.m})`,
        hint: 'A batch of one has no variance; use eval() for single samples.',
      });
    }
    const { y, mean, variance } = b.batchNormForwardTraining(
      { x, gamma: this.#gamma, beta: this.#beta },
      this.#attrs,
    );
    if (this.checkFinite) {
      try {
        this.#assertFiniteStatistics(mean, variance);
      } catch (error) {
        b.dispose(y);
        b.dispose(mean);
        b.dispose(variance);
        throw error;
      }
    }
    const factor = this.#momentum ?? 1 / (this.#numBatchesTracked + 1);
    const batchScale =
      this.#varianceCorrection === 'unbiased' ? geometry.m / (geometry.m - 1) : 1;
    const runningMean = b.runningAverage(
      { running: this.#runningMean, batch: mean },
      { factor, batchScale: 1 },
    );
    const runningVar = b.runningAverage(
      { running: this.#runningVar, batch: variance },
      { factor, batchScale },
    );
    b.dispose(this.#runningMean);
    b.dispose(this.#runningVar);
    this.#runningMean = runningMean;
    this.#runningVar = runningVar;
    this.#numBatchesTracked += 1;
    this.#releaseSaved();
    this.#saved = { x, mean, variance };
    return y;
  }

  /**
   * Back-propagates `dy` through the last training `forward`; returns `dx` and keeps `dγ`, `dβ`
   * in `gradients`.
   */
  backward(dy: T): T {
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
    if (!sameShape(dy.shape, saved.x.shape)) {
      throw new BatchNormError({
        code: 'SHAPE_MISMATCH',
        argument: 'dy.shape',
        expected: `the shape of the forward input [${saved.x.shape.join(', ')}]`,
        received: describeShape(dy.shape),
      });
    }
    const { dx, dgamma, dbeta } = this.backend.batchNormBackward(
      { dy, x: saved.x, gamma: this.#gamma, mean: saved.mean, variance: saved.variance },
      this.#attrs,
    );
    this.#releaseGradients();
    this.#gradients = { gamma: dgamma, beta: dbeta };
    return dx;
  }

  /** One SGD step on γ and β with the gradients of the last `backward`. */
  sgdStep(learningRate: number): void {
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
    this.#gamma = this.backend.sgdUpdate(this.#gamma, grads.gamma, { learningRate });
    this.#beta = this.backend.sgdUpdate(this.#beta, grads.beta, { learningRate });
  }

  /** The layer's parameters and statistics as plain JSON (`batchnorm-state/1`). */
  state(): BatchNormState {
    const read = (t: T): number[] => Array.from(this.backend.readSync(t));
    return {
      schema: 'batchnorm-state/1',
      numFeatures: this.numFeatures,
      layout: this.layout,
      epsilon: this.#epsilon,
      momentum: this.#momentum,
      varianceCorrection: this.#varianceCorrection,
      gamma: read(this.#gamma),
      beta: read(this.#beta),
      runningMean: read(this.#runningMean),
      runningVar: read(this.#runningVar),
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
    assertEpsilon(state.epsilon, 'state.epsilon');
    assertMomentum(state.momentum, 'state.momentum');
    assertVarianceCorrection(state.varianceCorrection, 'state.varianceCorrection');
    const c = this.numFeatures;
    const gamma = toFeatureVector(state.gamma, c, 'state.gamma');
    const beta = toFeatureVector(state.beta, c, 'state.beta');
    const runningMean = toFeatureVector(state.runningMean, c, 'state.runningMean');
    const runningVar = toFeatureVector(state.runningVar, c, 'state.runningVar', {
      nonNegative: true,
    });
    const tracked = state.numBatchesTracked;
    if (typeof tracked !== 'number' || !Number.isInteger(tracked) || tracked < 0) {
      throw invalid('state.numBatchesTracked', 'an integer ≥ 0', tracked);
    }
    const b = this.backend;
    for (const t of [this.#gamma, this.#beta, this.#runningMean, this.#runningVar]) b.dispose(t);
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

  /** Inference as one affine map per feature: `scale = γ/√(Var+ε)`, `shift = β − scale·E[x]`. */
  fold(): FoldedBatchNorm {
    const b = this.backend;
    const gamma = b.readSync(this.#gamma);
    const beta = b.readSync(this.#beta);
    const mean = b.readSync(this.#runningMean);
    const variance = b.readSync(this.#runningVar);
    const scale = new Float64Array(this.numFeatures);
    const shift = new Float64Array(this.numFeatures);
    for (let k = 0; k < this.numFeatures; k++) {
      scale[k] = gamma[k]! / Math.sqrt(variance[k]! + this.#epsilon);
      shift[k] = beta[k]! - scale[k]! * mean[k]!;
    }
    return { scale, shift };
  }

  /** Releases every tensor the layer owns. */
  dispose(): void {
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

  #assertFiniteStatistics(mean: T, variance: T): void {
    const means = this.backend.readSync(mean);
    const variances = this.backend.readSync(variance);
    for (let k = 0; k < means.length; k++) {
      if (!Number.isFinite(means[k]!) || !Number.isFinite(variances[k]!)) {
        throw new BatchNormError({
          code: 'NON_FINITE_INPUT',
          argument: 'x',
          expected: 'finite values (a finite batch mean and variance for every feature)',
          received: `feature ${k} with mean ${describeValue(means[k])} and variance ${describeValue(variances[k])}`,
          hint: 'The running statistics were left unchanged.',
        });
      }
    }
  }

  #releaseSaved(): void {
    if (this.#saved === undefined) return;
    this.backend.dispose(this.#saved.mean);
    this.backend.dispose(this.#saved.variance);
    this.#saved = undefined;
  }

  #releaseGradients(): void {
    if (this.#gradients === undefined) return;
    this.backend.dispose(this.#gradients.gamma);
    this.backend.dispose(this.#gradients.beta);
    this.#gradients = undefined;
  }
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

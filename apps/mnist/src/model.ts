import { BatchNorm, type Backend, type BatchNormState, type TensorHandle } from '@batchnorm/core';
import { forBackend, readValues, snapshotOf, valuesOf, type TensorSnapshot } from './hostValues.js';
import { Rng, deriveSeed } from './rng.js';

export { forBackend, readValues, snapshotOf, valuesOf, type TensorSnapshot } from './hostValues.js';

/** `bn`: Batch Normalization after each hidden layer's `Wu` (bias dropped); `plain`: `Wu + b`. */
export type Variant = 'bn' | 'plain';

/** The paper's network (§4.1): 784 inputs, three hidden layers of 100 sigmoids, 10 classes. */
export const PAPER_LAYER_SIZES: readonly number[] = [784, 100, 100, 100, 10];

export interface MlpOptions {
  readonly variant: Variant;
  /** Inputs, hidden sizes…, classes. Default {@link PAPER_LAYER_SIZES}. */
  readonly layerSizes?: readonly number[];
  /** Seeds the initial weights (the same for both variants). */
  readonly seed: number;
  /** Initial weights: Glorot uniform (default), or the paper's "small random Gaussian values". */
  readonly init?: WeightInit;
  /** BN running-average momentum (weight of the new batch), `null` for the cumulative average. */
  readonly momentum?: number | null;
  /** Let BatchNorm reject non-finite batch statistics (reads C values back per layer per step). */
  readonly checkFinite?: boolean;
}

/** How the weights start; biases start at 0, BN's γ at 1 and β at 0. */
export type WeightInit =
  | { readonly kind: 'glorot' }
  | { readonly kind: 'gaussian'; readonly std: number };

export interface MlpSnapshot {
  readonly variant: Variant;
  readonly layerSizes: number[];
  readonly weights: TensorSnapshot[];
  /** One per layer; `null` where BN replaces the bias. */
  readonly biases: (TensorSnapshot | null)[];
  readonly batchNorm: BatchNormState[];
}

/**
 * The multilayer perceptron of the paper's MNIST experiment, living entirely on one backend:
 * every step of forward, backward and update is a kernel of the `Backend` contract, BN is core's
 * `BatchNorm` layer.
 */
export class Mlp<T extends TensorHandle = TensorHandle> {
  readonly backend: Backend<T>;
  readonly variant: Variant;
  readonly layerSizes: readonly number[];
  readonly weights: T[];
  readonly biases: (T | undefined)[];
  /** One per hidden layer for `bn`, empty for `plain`. */
  readonly batchNorm: BatchNorm<T>[];

  constructor(backend: Backend<T>, options: MlpOptions) {
    this.backend = backend;
    this.variant = options.variant;
    this.layerSizes = options.layerSizes ?? PAPER_LAYER_SIZES;
    const sizes = this.layerSizes;
    const rng = new Rng(deriveSeed(options.seed, 0));
    const init = options.init ?? { kind: 'glorot' };
    this.weights = [];
    this.biases = [];
    this.batchNorm = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const w = new Float64Array(fanIn * fanOut);
      if (init.kind === 'glorot') {
        // Keeps the spread of the sigmoid inputs about equal across layers at the start.
        const limit = Math.sqrt(6 / (fanIn + fanOut));
        for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * limit;
      } else {
        for (let i = 0; i < w.length; i++) w[i] = init.std * rng.normal();
      }
      this.weights.push(backend.upload(forBackend(backend, w), [fanIn, fanOut]));
      const isOutput = l + 2 === sizes.length;
      if (this.variant === 'bn' && !isOutput) {
        this.biases.push(undefined); // BN's β takes the bias's role (paper §3.2)
        this.batchNorm.push(
          new BatchNorm(backend, {
            numFeatures: fanOut,
            momentum: options.momentum === undefined ? 0.1 : options.momentum,
            checkFinite: options.checkFinite ?? true,
          }),
        );
      } else {
        this.biases.push(backend.upload(forBackend(backend, new Float64Array(fanOut)), [fanOut]));
      }
    }
  }

  get hiddenLayers(): number {
    return this.layerSizes.length - 2;
  }

  /**
   * The hidden layers on `x`: layer `l` computes `z = h·W` (layer 0 takes `z0` when given, a
   * product already made), `s = BN(z)` (through `layers[l]`) for `bn` or `z + b` for `plain`, and
   * `a = sigmoid(s)`, then hands `{ z, s, a }` to `use`, which keeps or disposes each. Returns the
   * last activation (`x` when there is no hidden layer).
   */
  #hidden(x: T, layers: readonly BatchNorm<T>[], use: (l: number, out: { z: T; s: T; a: T }) => void, z0?: T): T {
    const b = this.backend;
    let h = x;
    for (let l = 0; l < this.hiddenLayers; l++) {
      const z = l === 0 && z0 !== undefined ? z0 : b.matMul(h, this.weights[l]!);
      const s = this.variant === 'bn' ? layers[l]!.forward(z) : b.addBias(z, this.biases[l]!);
      h = b.sigmoid(s);
      use(l, { z, s, a: h });
    }
    return h;
  }

  /**
   * One SGD step on a mini-batch `x [N, inputs]` with one-hot `labels [N, classes]`. Returns the
   * mean cross-entropy `[1]` (a handle the caller reads and disposes).
   */
  trainStep(x: T, labels: T, learningRate: number): T {
    const b = this.backend;
    const hidden = this.hiddenLayers;
    const last = this.weights.length - 1;
    const activations: T[] = [];
    const bnInputs: T[] = [];
    for (const layer of this.batchNorm) layer.train();
    const h = this.#hidden(x, this.batchNorm, (_, { z, s, a }) => {
      if (this.variant === 'bn') bnInputs.push(z); // BN's backward needs it
      else b.dispose(z);
      b.dispose(s);
      activations.push(a);
    });
    const zOut = b.matMul(h, this.weights[last]!);
    const logits = b.addBias(zOut, this.biases[last]!);
    b.dispose(zOut);
    const { loss, dLogits } = b.softmaxCrossEntropy(logits, labels);
    b.dispose(logits);

    let grad = dLogits; // ∂loss/∂(layer l's output before its nonlinearity), walking down
    for (let l = last; l >= 0; l--) {
      let dz: T;
      if (l === last) {
        dz = grad;
      } else {
        const ds = b.sigmoidBackward(grad, activations[l]!);
        b.dispose(grad);
        if (this.variant === 'bn') {
          dz = this.batchNorm[l]!.backward(ds);
          b.dispose(ds);
          b.dispose(bnInputs[l]!);
        } else {
          dz = ds;
        }
      }
      const input = l === 0 ? x : activations[l - 1]!;
      const dW = b.matMul(input, dz, { transposeA: true });
      const bias = this.biases[l];
      const dBias = bias === undefined ? undefined : b.sumRows(dz);
      // The gradient for the layer below uses W before this step's update.
      if (l > 0) grad = b.matMul(dz, this.weights[l]!, { transposeB: true });
      b.dispose(dz);
      this.weights[l] = b.sgdUpdate(this.weights[l]!, dW, { learningRate });
      b.dispose(dW);
      if (bias !== undefined && dBias !== undefined) {
        this.biases[l] = b.sgdUpdate(bias, dBias, { learningRate });
        b.dispose(dBias);
      }
      if (this.variant === 'bn' && l < hidden) this.batchNorm[l]!.sgdStep(learningRate);
    }
    for (const a of activations) b.dispose(a);
    return loss;
  }

  /**
   * Inference (BN in eval mode with population statistics, from `layers` if given): the logits
   * `[N, classes]` and the input of the last hidden layer's sigmoids `[N, hidden]` (the BN output
   * for `bn`), both for the caller to dispose.
   */
  infer(x: T, layers: readonly BatchNorm<T>[] = this.batchNorm): { logits: T; lastSigmoidInput: T } {
    return this.inferEach(x, [layers])[0]!;
  }

  /**
   * {@link infer} with each set of BN layers in turn. The first product `x·W₁`, most of the work,
   * does not depend on the layers: it is computed once and serves every set (the same values).
   */
  inferEach(x: T, layerSets: readonly (readonly BatchNorm<T>[])[]): { logits: T; lastSigmoidInput: T }[] {
    const b = this.backend;
    const hidden = this.hiddenLayers;
    const last = this.weights.length - 1;
    const z0 = b.matMul(x, this.weights[0]!);
    try {
      return layerSets.map((layers) => {
        for (const layer of layers) layer.eval();
        let lastSigmoidInput: T | undefined;
        let previous: T | undefined;
        const h = this.#hidden(x, layers, (l, { z, s, a }) => {
          if (z !== z0) b.dispose(z);
          if (previous !== undefined) b.dispose(previous);
          previous = a;
          if (l === hidden - 1) lastSigmoidInput = s;
          else b.dispose(s);
        }, z0);
        const zOut = hidden === 0 ? z0 : b.matMul(h, this.weights[last]!);
        if (h !== x) b.dispose(h);
        const logits = b.addBias(zOut, this.biases[last]!);
        if (zOut !== z0) b.dispose(zOut);
        for (const layer of layers) layer.train();
        return { logits, lastSigmoidInput: lastSigmoidInput! };
      });
    } finally {
      b.dispose(z0);
    }
  }

  /**
   * The paper's population statistics (Algorithm 2, steps 8–11): with the weights frozen, runs
   * `batches` training mini-batches through the network in training mode and averages their
   * statistics exactly (`E[x] = E_B[μ_B]`, `Var[x] = m/(m−1)·E_B[σ²_B]`). Returns fresh layers
   * (same γ, β) holding those statistics, their finite checks settled; the caller disposes them.
   */
  async exactPopulationLayers(batches: Iterable<T>): Promise<BatchNorm<T>[]> {
    const b = this.backend;
    const states = await Promise.all(this.batchNorm.map((layer) => layer.state()));
    const layers = this.batchNorm.map(
      (layer, l) =>
        new BatchNorm(b, {
          numFeatures: layer.numFeatures,
          epsilon: layer.epsilon,
          momentum: null,
          varianceCorrection: 'unbiased',
          gamma: states[l]!.gamma,
          beta: states[l]!.beta,
          checkFinite: layer.checkFinite,
        }),
    );
    try {
      for (const x of batches) {
        let previous: T | undefined;
        const h = this.#hidden(x, layers, (_, { z, s, a }) => {
          b.dispose(z);
          b.dispose(s);
          if (previous !== undefined) b.dispose(previous);
          previous = a;
        });
        if (h !== x) b.dispose(h);
      }
      // On a backend that reads asynchronously the finite checks are still reading.
      await Promise.all(layers.map((layer) => layer.settle()));
    } catch (error) {
      for (const layer of layers) layer.dispose();
      throw error;
    }
    for (const layer of layers) layer.eval();
    return layers;
  }

  /** The parameters and BN states, exact (read through `read`, or `readSync` where declared). */
  async snapshot(): Promise<MlpSnapshot> {
    const b = this.backend;
    const copy = async (t: T) => snapshotOf(await readValues(b, t), t.shape);
    const [weights, biases, batchNorm] = await Promise.all([
      Promise.all(this.weights.map(copy)),
      Promise.all(this.biases.map((bias) => (bias === undefined ? null : copy(bias)))),
      Promise.all(this.batchNorm.map((layer) => layer.state())),
    ]);
    return { variant: this.variant, layerSizes: [...this.layerSizes], weights, biases, batchNorm };
  }

  /** Restores `snapshot()` output (exact bits when the dtype matches the backend's). */
  load(snapshot: MlpSnapshot): void {
    const b = this.backend;
    if (snapshot.variant !== this.variant || snapshot.layerSizes.join() !== this.layerSizes.join()) {
      throw new Error(
        `checkpoint holds a ${snapshot.variant} network of layers ${snapshot.layerSizes.join('-')}, ` +
          `expected ${this.variant} with ${this.layerSizes.join('-')}`,
      );
    }
    snapshot.weights.forEach((w, l) => {
      b.dispose(this.weights[l]!);
      this.weights[l] = b.upload(forBackend(b, valuesOf(w)), w.shape);
    });
    snapshot.biases.forEach((bias, l) => {
      if (bias === null) return;
      b.dispose(this.biases[l]!);
      this.biases[l] = b.upload(forBackend(b, valuesOf(bias)), bias.shape);
    });
    snapshot.batchNorm.forEach((state, l) => this.batchNorm[l]!.load(state));
  }

  dispose(): void {
    const b = this.backend;
    for (const w of this.weights) b.dispose(w);
    for (const bias of this.biases) if (bias !== undefined) b.dispose(bias);
    for (const layer of this.batchNorm) layer.dispose();
  }
}

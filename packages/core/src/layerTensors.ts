import type { Backend, TensorHandle } from './backend.js';
import type { Rollback } from './finiteChecks.js';
import type { LayerVectors } from './layerState.js';
import type { SyncBackend } from './reads.js';

/** A training forward's input and the backend's opaque `saved`, kept for `backward`. */
export interface SavedBatch<T> {
  readonly x: T;
  readonly saved: unknown;
}

/**
 * What a layer holds on its backend: γ, β and the running statistics, and the saved batch and
 * gradients of its last calls. Every tensor here is the layer's own, disposed by it.
 */
export class LayerTensors<T extends TensorHandle> {
  gamma: T;
  beta: T;
  runningMean: T;
  runningVar: T;
  saved: SavedBatch<T> | undefined;
  gradients: { gamma: T; beta: T } | undefined;
  readonly #backend: Backend<T>;

  constructor(backend: Backend<T>, vectors: LayerVectors<Float64Array>) {
    this.#backend = backend;
    this.gamma = this.#upload(vectors.gamma);
    this.beta = this.#upload(vectors.beta);
    this.runningMean = this.#uploadRunning(vectors.runningMean);
    this.runningVar = this.#uploadRunning(vectors.runningVar);
  }

  /** The four vectors' tensors, in `LayerVectors` order. */
  get #vectors(): T[] {
    return [this.gamma, this.beta, this.runningMean, this.runningVar];
  }

  /** Replaces the four vectors (disposing the old tensors) and releases the batch and gradients. */
  replace(vectors: LayerVectors<Float64Array>): void {
    for (const t of this.#vectors) this.#backend.dispose(t);
    this.releaseSaved();
    this.releaseGradients();
    this.gamma = this.#upload(vectors.gamma);
    this.beta = this.#upload(vectors.beta);
    this.runningMean = this.#uploadRunning(vectors.runningMean);
    this.runningVar = this.#uploadRunning(vectors.runningVar);
  }

  /** Puts back what a failed finite check kept, and releases the batch and gradients. */
  restore({ running, parameters }: Rollback<T>): void {
    const b = this.#backend;
    if (running !== undefined) {
      b.dispose(this.runningMean);
      b.dispose(this.runningVar);
      this.runningMean = running.mean;
      this.runningVar = running.variance;
    }
    if (parameters !== undefined) {
      b.dispose(this.gamma);
      b.dispose(this.beta);
      this.gamma = parameters.gamma;
      this.beta = parameters.beta;
    }
    this.releaseSaved();
    this.releaseGradients();
  }

  /** The four vectors; the running statistics through `readFloat64` where the backend has it. */
  async read(): Promise<LayerVectors> {
    const b = this.#backend;
    const exact = (t: T) => (b.readFloat64 === undefined ? b.read(t) : b.readFloat64(t));
    const [gamma, beta, runningMean, runningVar] = await Promise.all([
      b.read(this.gamma),
      b.read(this.beta),
      exact(this.runningMean),
      exact(this.runningVar),
    ]);
    return { gamma, beta, runningMean, runningVar };
  }

  /** `read()`, synchronously: the running statistics through `readFloat64Sync` where declared. */
  readSync(b: SyncBackend<T>): LayerVectors {
    const exact = (t: T) => (b.readFloat64Sync === undefined ? b.readSync(t) : b.readFloat64Sync(t));
    return {
      gamma: b.readSync(this.gamma),
      beta: b.readSync(this.beta),
      runningMean: exact(this.runningMean),
      runningVar: exact(this.runningVar),
    };
  }

  releaseSaved(): void {
    if (this.saved === undefined) return;
    this.#backend.disposeSaved(this.saved.saved);
    this.saved = undefined;
  }

  releaseGradients(): void {
    if (this.gradients === undefined) return;
    this.#backend.dispose(this.gradients.gamma);
    this.#backend.dispose(this.gradients.beta);
    this.gradients = undefined;
  }

  /** Releases every tensor held. */
  dispose(): void {
    this.releaseSaved();
    this.releaseGradients();
    for (const t of this.#vectors) this.#backend.dispose(t);
  }

  #upload(values: Float64Array): T {
    const data = this.#backend.dtype === 'float64' ? values : Float32Array.from(values);
    return this.#backend.upload(data, [values.length]);
  }

  /**
   * A running statistic: in float64 where the backend keeps float64 values (it declares
   * `readFloat64`), so a loaded state continues with the digits its kernels computed.
   */
  #uploadRunning(values: Float64Array): T {
    if (this.#backend.readFloat64 === undefined) return this.#upload(values);
    return this.#backend.upload(values, [values.length]);
  }
}

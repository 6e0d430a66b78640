import type { Split } from './data.js';
import { deriveSeed, epochPermutation } from './rng.js';

/**
 * Mini-batches of a split in a seeded order that depends only on (seed, step): each epoch is a
 * fresh shuffle, so a resumed run sees exactly the batches an uninterrupted one would.
 */
export class BatchSource {
  readonly split: Split;
  readonly batchSize: number;
  readonly seed: number;
  readonly classes: number;
  readonly batchesPerEpoch: number;
  readonly images: Float32Array;
  readonly oneHot: Float32Array;
  #epoch = -1;
  #order: Uint32Array = new Uint32Array(0);

  constructor(split: Split, batchSize: number, seed: number, classes = 10) {
    if (batchSize > split.count) {
      throw new Error(`batch size ${batchSize} exceeds the ${split.count} training images`);
    }
    this.split = split;
    this.batchSize = batchSize;
    this.seed = seed;
    this.classes = classes;
    this.batchesPerEpoch = Math.floor(split.count / batchSize);
    this.images = new Float32Array(batchSize * split.features);
    this.oneHot = new Float32Array(batchSize * classes);
  }

  /** Fills `images` and `oneHot` (reused buffers) with the batch of 0-based `step`. */
  fill(step: number): void {
    const epoch = Math.floor(step / this.batchesPerEpoch);
    if (epoch !== this.#epoch) {
      this.#order = epochPermutation(this.split.count, this.seed, epoch);
      this.#epoch = epoch;
    }
    const start = (step % this.batchesPerEpoch) * this.batchSize;
    this.#gather(this.#order.subarray(start, start + this.batchSize));
  }

  /**
   * Fills the buffers with batch `index` of a fixed sample of the training set (its own seeded
   * order): the batches over which exact population statistics are averaged.
   */
  fillPopulationBatch(index: number): void {
    if (this.#populationOrder === undefined) {
      this.#populationOrder = epochPermutation(this.split.count, deriveSeed(this.seed, 2), 0);
    }
    const start = (index % this.batchesPerEpoch) * this.batchSize;
    this.#gather(this.#populationOrder.subarray(start, start + this.batchSize));
  }

  #populationOrder: Uint32Array | undefined;

  #gather(indices: Uint32Array): void {
    const f = this.split.features;
    this.oneHot.fill(0);
    indices.forEach((item, row) => {
      this.images.set(this.split.images.subarray(item * f, (item + 1) * f), row * f);
      this.oneHot[row * this.classes + this.split.labels[item]!] = 1;
    });
  }
}

import { Mulberry32 } from '@batchnorm/core';

/**
 * core's mulberry32 (`Mulberry32`: its 32-bit `state` is public, so a checkpoint can store it and
 * a resumed run continue the same sequence), with the draws the app needs.
 */
export class Rng extends Mulberry32 {
  /** Standard normal (Box–Muller, one of the pair: no hidden state beyond `state`). */
  normal(): number {
    const u1 = 1 - this.uniform(); // in (0, 1]: log(u1) is finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

/** A seed for stream `stream` of `seed`, so streams (init, each epoch's order) are independent. */
export function deriveSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The order of the training images in `epoch`: a Fisher–Yates shuffle seeded by (seed, epoch). */
export function epochPermutation(count: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = new Rng(deriveSeed(seed, 1000 + epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

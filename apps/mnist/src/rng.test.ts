import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed, epochPermutation } from './rng.js';

// Pinned from the app's own mulberry32 before it became core's: a run's initial weights and
// epoch orders must not change with the refactor.
describe('Rng', () => {
  it('draws the same sequence as before, and its state resumes it', () => {
    const rng = new Rng(deriveSeed(1, 0));
    const drawn = [rng.uniform(), rng.normal(), rng.below(1000)];
    expect(drawn).toEqual([0.2986891178879887, -0.04904671645999103, 396]);
    expect(rng.state).toBe(3888601508);
    const resumed = new Rng(rng.state);
    expect([resumed.uniform(), resumed.uniform()]).toEqual([rng.uniform(), rng.uniform()]);
  });

  it('orders an epoch as before', () => {
    expect(Array.from(epochPermutation(10, 1, 0))).toEqual([9, 0, 5, 6, 4, 1, 7, 3, 8, 2]);
  });
});

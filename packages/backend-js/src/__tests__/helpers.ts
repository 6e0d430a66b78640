import { expect } from 'vitest';
import { createRandom } from '@batchnorm/core';

/** Seeded float32 data `offset + scale·N(0, 1)`. */
export function randomFloat32(seed: number, length: number, scale = 1, offset = 0): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length }, () => offset + scale * random.normal());
}

/** numpy's `allclose`, element by element, with the first failure in the message. */
export function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  expect(got.length).toBe(want.length);
  let failures = 0;
  let first = '';
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    if (!(error <= atol + rtol * Math.abs(want[i]!))) {
      if (failures === 0) first = `[${i}]: got ${got[i]}, want ${want[i]}`;
      failures++;
    }
  }
  expect(failures, `${failures} of ${want.length} values outside atol ${atol} + rtol ${rtol}; first ${first}`).toBe(0);
}

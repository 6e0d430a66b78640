import { createReferenceBackend, type SeededRandom } from '@batchnorm/core';

/** The grid's base seed; every case derives its own from its name, so subsets are stable. */
export const GRID_SEED = 20150211;

/** FNV-1a of a case name, mixed with the base seed. */
export function seedOf(name: string, base = GRID_SEED): number {
  let hash = 0x811c9dc5 ^ base;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export const f32 = Math.fround;

/** `length` values from `value`, each rounded to float32 (what a float32 backend is given). */
export function float32Array(length: number, value: (i: number) => number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = f32(value(i));
  return out;
}

/** `offset + scale·N(0, 1)`, float32-rounded. */
export function normals(random: SeededRandom, length: number, scale = 1, offset = 0): Float64Array {
  return float32Array(length, () => offset + scale * random.normal());
}

/** The float64 reference every expected value of the grid comes from. */
export const reference = createReferenceBackend();

/**
 * `e^v` to float32 accuracy on a GPU. GLSL computes `exp(v)` as `exp2(v·log₂e)`, whose relative
 * error grows with |v| (8 ulp at v ≈ −6 under Mesa). Reducing first — `e^v = 2^k·e^r` with
 * `r = v − k·ln2` in [−ln2/2, ln2/2], ln2 split in two so `k·ln2_hi` is exact (Cody–Waite) —
 * leaves `exp` only a small argument, and `2^k` is exact.
 */
export function preciseExp(v: number): number {
  const k = Math.floor(v * 1.4426950408889634 + 0.5);
  const r = v - k * 0.693145751953125 - k * 0.0000014286068203094173;
  return Math.pow(2, k) * Math.exp(r);
}

/**
 * `y = 1/(1 + e^(−x))` for elements `[r0, r1)`, in float64 and rounded once. `e^t` is computed
 * by the very operations of the SIMD twin, not by `Math.exp`, so both give the same bits:
 * `t = k·ln2 + r` with `k` the nearest integer to `t/ln2` (ln2 in two parts, so `r` is exact to
 * float64), `e^r` by its Taylor polynomial of degree 13 (truncation under 1e-17 for
 * |r| ≤ ln2/2) in Estrin's scheme, `2^k` from its exponent bits. `t` is clamped to ±200, where the float32 sigmoid
 * is already 0 or 1; NaN stays NaN.
 */
export function sigmoid(x: Float32Array, y: Float32Array, r0: number, r1: number): void {
  const scale = new Float64Array(1);
  const words = new Int32Array(scale.buffer); // [1]: the high word (little-endian, as wasm)
  for (let i = r0; i < r1; i++) {
    let t = -x[i]!;
    // Not Math.min/max: these comparisons are the SIMD twin's pmax/pmin (NaN stays NaN).
    t = t < -200 ? -200 : t;
    t = 200 < t ? 200 : t;
    // Round to nearest, ties to even: adding and subtracting 1.5·2⁵² drops the fraction.
    const k = t * 1.4426950408889634 + 6755399441055744 - 6755399441055744;
    const r = t - k * 0.6931471803691238 - k * 1.9082149292705877e-10;
    // The Taylor polynomial of e^r in Estrin's scheme (its twin's (@estrin …) expansion).
    const r2 = r * r;
    const r4 = r2 * r2;
    const r8 = r4 * r4;
    const p =
      1 + 1 * r + (0.5 + 0.16666666666666666 * r) * r2 +
      (0.041666666666666664 + 0.008333333333333333 * r + (0.001388888888888889 + 0.0001984126984126984 * r) * r2) * r4 +
      (2.48015873015873e-5 + 2.7557319223985893e-6 * r + (2.755731922398589e-7 + 2.505210838544172e-8 * r) * r2 +
        (2.08767569878681e-9 + 1.6059043836821613e-10 * r) * r4) * r8;
    words[1] = (k + 1023) << 20;
    y[i] = 1 / (1 + p * scale[0]!);
  }
}

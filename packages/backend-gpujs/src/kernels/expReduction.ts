/**
 * Constants for `e^v` to float32 accuracy on a GPU. GLSL computes `exp(v)` as
 * `exp2(v·log₂e)`, whose relative error grows with |v| (8 ulp at v ≈ −6 under Mesa). Kernels
 * reduce first — `e^v = 2^k·e^r`, `k = round(v·log₂e)`, `r = v − k·ln2_hi − k·ln2_lo` in
 * [−ln2/2, ln2/2] (Cody–Waite: `ln2_hi` has few bits, so `k·ln2_hi` is exact) — leaving `exp`
 * a small argument, and `2^k` is exact.
 *
 * The reduction is written out in each kernel rather than in a helper function: gpu.js compiles
 * helpers by their source name, which bundlers rename (`preciseExp$1`), and passed as constants
 * because bundlers reprint number literals in forms gpu.js does not parse (`14286068203094173e-22`).
 */
export interface ExpReductionConstants {
  [name: string]: number;
  log2e: number;
  ln2High: number;
  ln2Low: number;
}

export const EXP_REDUCTION: ExpReductionConstants = {
  log2e: Math.LOG2E,
  ln2High: 0.693145751953125,
  ln2Low: Math.LN2 - 0.693145751953125,
};

/**
 * `param[i] −= rate[0]·grad[i]` for elements `[r0, r1)`, in float64 and rounded once (the rate
 * comes in a one-element array: the SIMD twin takes numbers as integers only).
 */
export function sgdUpdate(param: Float32Array, grad: Float32Array, rate: Float64Array, r0: number, r1: number): void {
  const learningRate = rate[0]!;
  for (let i = r0; i < r1; i++) param[i] = param[i]! - learningRate * grad[i]!;
}

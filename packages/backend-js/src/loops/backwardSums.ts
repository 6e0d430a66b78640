/**
 * Accumulates `Σdy` and `Σdy·(x − mean[c])` per channel over rows `[r0, r1)`, in float64: the
 * two reductions of the batch-norm backward pass (`dβ`, and `dγ` once scaled by `1/σ`).
 */
export function backwardSums(
  dy: Float32Array,
  x: Float32Array,
  channels: number,
  inner: number,
  r0: number,
  r1: number,
  mean: Float64Array,
  sumDy: Float64Array,
  sumDyCentered: Float64Array,
): void {
  if (inner === 1) {
    let r = r0;
    for (; r + 4 <= r1; r += 4) {
      const o0 = r * channels;
      const o1 = o0 + channels;
      const o2 = o1 + channels;
      const o3 = o2 + channels;
      for (let c = 0; c < channels; c++) {
        const mu = mean[c];
        const g0 = dy[o0 + c];
        const g1 = dy[o1 + c];
        const g2 = dy[o2 + c];
        const g3 = dy[o3 + c];
        sumDy[c] += g0 + g1 + (g2 + g3);
        sumDyCentered[c] +=
          g0 * (x[o0 + c] - mu) + g1 * (x[o1 + c] - mu) + (g2 * (x[o2 + c] - mu) + g3 * (x[o3 + c] - mu));
      }
    }
    for (; r < r1; r++) {
      const o = r * channels;
      for (let c = 0; c < channels; c++) {
        const g = dy[o + c];
        sumDy[c] += g;
        sumDyCentered[c] += g * (x[o + c] - mean[c]);
      }
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    for (let c = 0; c < channels; c++) {
      const mu = mean[c];
      const end = (r * channels + c) * inner + inner;
      let i = end - inner;
      let s0 = 0;
      let s1 = 0;
      let p0 = 0;
      let p1 = 0;
      for (; i + 4 <= end; i += 4) {
        const g0 = dy[i];
        const g1 = dy[i + 1];
        const g2 = dy[i + 2];
        const g3 = dy[i + 3];
        s0 += g0 + g2;
        s1 += g1 + g3;
        p0 += g0 * (x[i] - mu) + g2 * (x[i + 2] - mu);
        p1 += g1 * (x[i + 1] - mu) + g3 * (x[i + 3] - mu);
      }
      for (; i < end; i++) {
        s0 += dy[i];
        p0 += dy[i] * (x[i] - mu);
      }
      sumDy[c] += s0 + s1;
      sumDyCentered[c] += p0 + p1;
    }
  }
}

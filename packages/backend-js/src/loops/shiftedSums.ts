/**
 * Accumulates `Σ(x − shift[c])` and `Σ(x − shift[c])²` per channel over rows `[r0, r1)`, in
 * float64. With `shift` a value of the channel itself, the variance `(Σd² − (Σd)²/m)/m` keeps
 * its precision even for `1e4 + N(0, 1)` data (the shift removes the offset before squaring).
 */
export function shiftedSums(
  x: Float32Array,
  channels: number,
  inner: number,
  r0: number,
  r1: number,
  shift: Float64Array,
  sum: Float64Array,
  sumSq: Float64Array,
): void {
  if (inner === 1) {
    // Channels last: walk whole rows, four at a time, so each scratch update serves four values.
    let r = r0;
    for (; r + 4 <= r1; r += 4) {
      const o0 = r * channels;
      const o1 = o0 + channels;
      const o2 = o1 + channels;
      const o3 = o2 + channels;
      for (let c = 0; c < channels; c++) {
        const k = shift[c];
        const a = x[o0 + c] - k;
        const b = x[o1 + c] - k;
        const d = x[o2 + c] - k;
        const e = x[o3 + c] - k;
        sum[c] += a + b + (d + e);
        sumSq[c] += a * a + b * b + (d * d + e * e);
      }
    }
    for (; r < r1; r++) {
      const o = r * channels;
      for (let c = 0; c < channels; c++) {
        const a = x[o + c] - shift[c];
        sum[c] += a;
        sumSq[c] += a * a;
      }
    }
    return;
  }
  // Channels first: one contiguous run of `inner` values per (row, channel).
  for (let r = r0; r < r1; r++) {
    for (let c = 0; c < channels; c++) {
      const k = shift[c];
      const end = (r * channels + c) * inner + inner;
      let i = end - inner;
      let s0 = 0;
      let s1 = 0;
      let q0 = 0;
      let q1 = 0;
      for (; i + 4 <= end; i += 4) {
        const a = x[i] - k;
        const b = x[i + 1] - k;
        const d = x[i + 2] - k;
        const e = x[i + 3] - k;
        s0 += a + d;
        s1 += b + e;
        q0 += a * a + d * d;
        q1 += b * b + e * e;
      }
      for (; i < end; i++) {
        const a = x[i] - k;
        s0 += a;
        q0 += a * a;
      }
      sum[c] += s0 + s1;
      sumSq[c] += q0 + q1;
    }
  }
}

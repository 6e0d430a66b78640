/**
 * `dx = a[c]·dy + b[c]·x + d[c]` over rows `[r0, r1)`: the simplified batch-norm gradient
 * `(γ/(m·σ))·(m·dy − Σdy − x̂·Σdy·x̂)` with its per-channel constants folded beforehand.
 */
export function backwardApply(
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
  channels: number,
  inner: number,
  r0: number,
  r1: number,
  a: Float64Array,
  b: Float64Array,
  d: Float64Array,
): void {
  if (inner === 1) {
    // Channels last: four rows per sweep, each channel's constants loaded once per four values.
    let r = r0;
    for (; r + 4 <= r1; r += 4) {
      const o0 = r * channels;
      const o1 = o0 + channels;
      const o2 = o1 + channels;
      const o3 = o2 + channels;
      for (let c = 0; c < channels; c++) {
        const ac = a[c];
        const bc = b[c];
        const dc = d[c];
        dx[o0 + c] = ac * dy[o0 + c] + (bc * x[o0 + c] + dc);
        dx[o1 + c] = ac * dy[o1 + c] + (bc * x[o1 + c] + dc);
        dx[o2 + c] = ac * dy[o2 + c] + (bc * x[o2 + c] + dc);
        dx[o3 + c] = ac * dy[o3 + c] + (bc * x[o3 + c] + dc);
      }
    }
    for (; r < r1; r++) {
      const o = r * channels;
      for (let c = 0; c < channels; c++) dx[o + c] = a[c] * dy[o + c] + (b[c] * x[o + c] + d[c]);
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    for (let c = 0; c < channels; c++) {
      const ac = a[c];
      const bc = b[c];
      const dc = d[c];
      const start = (r * channels + c) * inner;
      const end = start + inner;
      let i = start;
      for (; i + 4 <= end; i += 4) {
        dx[i] = ac * dy[i] + (bc * x[i] + dc);
        dx[i + 1] = ac * dy[i + 1] + (bc * x[i + 1] + dc);
        dx[i + 2] = ac * dy[i + 2] + (bc * x[i + 2] + dc);
        dx[i + 3] = ac * dy[i + 3] + (bc * x[i + 3] + dc);
      }
      for (; i < end; i++) dx[i] = ac * dy[i] + (bc * x[i] + dc);
    }
  }
}

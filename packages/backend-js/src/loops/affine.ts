/** `y = x·scale[c] + offset[c]` over rows `[r0, r1)`: the normalization once statistics are known. */
export function affine(
  x: Float32Array,
  y: Float32Array,
  channels: number,
  inner: number,
  r0: number,
  r1: number,
  scale: Float64Array,
  offset: Float64Array,
): void {
  if (inner === 1) {
    // Channels last: four rows per sweep, so each channel's constants are loaded once per four
    // values (timings in the README's Performance section).
    let r = r0;
    for (; r + 4 <= r1; r += 4) {
      const o0 = r * channels;
      const o1 = o0 + channels;
      const o2 = o1 + channels;
      const o3 = o2 + channels;
      for (let c = 0; c < channels; c++) {
        const a = scale[c];
        const b = offset[c];
        y[o0 + c] = x[o0 + c] * a + b;
        y[o1 + c] = x[o1 + c] * a + b;
        y[o2 + c] = x[o2 + c] * a + b;
        y[o3 + c] = x[o3 + c] * a + b;
      }
    }
    for (; r < r1; r++) {
      const o = r * channels;
      for (let c = 0; c < channels; c++) y[o + c] = x[o + c] * scale[c] + offset[c];
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    for (let c = 0; c < channels; c++) {
      const a = scale[c];
      const b = offset[c];
      const start = (r * channels + c) * inner;
      const end = start + inner;
      let i = start;
      // Unrolled by four: fewer loop and bounds checks.
      for (; i + 4 <= end; i += 4) {
        y[i] = x[i] * a + b;
        y[i + 1] = x[i + 1] * a + b;
        y[i + 2] = x[i + 2] * a + b;
        y[i + 3] = x[i + 3] * a + b;
      }
      for (; i < end; i++) y[i] = x[i] * a + b;
    }
  }
}

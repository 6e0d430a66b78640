import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** Column sums `Σ_n x[n, c]`, walking whole rows into a float64 accumulator row. */
export function sumRows(ctx: KernelContext, x: JsTensor): JsTensor {
  const [, cols = 0] = x.shape;
  const xs = x.data;
  const sums = new Float64Array(cols);
  for (let o = 0; o < xs.length; o += cols) {
    for (let j = 0; j < cols; j++) sums[j] += xs[o + j]!;
  }
  return ctx.vectorTensor(sums);
}

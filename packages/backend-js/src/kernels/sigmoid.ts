import { mapRows, type KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `1/(1 + e^(−x))`, elementwise (`loops/sigmoid`: float64, rounded once). */
export function sigmoid(ctx: KernelContext, x: JsTensor): JsTensor {
  const xs = x.data;
  const out = ctx.output(x.shape, xs.length);
  const ys = out.data;
  mapRows(ctx, 'sigmoid', { outer: xs.length, size: xs.length }, (r0, r1) => [xs, ys, r0, r1]);
  return out;
}

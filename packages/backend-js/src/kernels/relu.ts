import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `max(x, 0)`, elementwise. */
export function relu(ctx: KernelContext, x: JsTensor): JsTensor {
  const xs = x.data;
  const out = ctx.output(x.shape, xs.length);
  const ys = out.data;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    ys[i] = v > 0 ? v : 0;
  }
  return out;
}

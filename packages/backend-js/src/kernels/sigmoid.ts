import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `1/(1 + e^(−x))`, elementwise. */
export function sigmoid(ctx: KernelContext, x: JsTensor): JsTensor {
  const xs = x.data;
  const out = ctx.output(x.shape, xs.length);
  const ys = out.data;
  for (let i = 0; i < xs.length; i++) ys[i] = 1 / (1 + Math.exp(-xs[i]!));
  return out;
}

import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `dy` where the ReLU's input `x > 0`, else 0. */
export function reluBackward(ctx: KernelContext, dy: JsTensor, x: JsTensor): JsTensor {
  const dys = dy.data;
  const xs = x.data;
  const out = ctx.output(dy.shape, dys.length);
  const dxs = out.data;
  for (let i = 0; i < dys.length; i++) dxs[i] = xs[i]! > 0 ? dys[i]! : 0;
  return out;
}

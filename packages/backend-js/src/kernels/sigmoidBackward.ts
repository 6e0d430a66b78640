import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `dy·y·(1 − y)` from the sigmoid's output `y`. */
export function sigmoidBackward(ctx: KernelContext, dy: JsTensor, y: JsTensor): JsTensor {
  const dys = dy.data;
  const ys = y.data;
  const out = ctx.output(dy.shape, dys.length);
  const dxs = out.data;
  for (let i = 0; i < dys.length; i++) {
    const v = ys[i]!;
    dxs[i] = dys[i]! * v * (1 - v);
  }
  return out;
}

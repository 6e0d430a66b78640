import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `x + bias` row by row: `[N, C] + [C] → [N, C]`. */
export function addBias(ctx: KernelContext, x: JsTensor, bias: JsTensor): JsTensor {
  const xs = x.data;
  const bs = bias.data;
  const cols = bs.length;
  const out = ctx.output(x.shape, xs.length);
  const ys = out.data;
  for (let o = 0; o < xs.length; o += cols) {
    for (let j = 0; j < cols; j++) ys[o + j] = xs[o + j]! + bs[j]!;
  }
  return out;
}

import { mapRows, type KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `param − learningRate·grad`, in place: returns `param` itself (no new buffer per step). */
export function sgdUpdate(
  ctx: KernelContext,
  param: JsTensor,
  grad: JsTensor,
  { learningRate }: { readonly learningRate: number },
): JsTensor {
  const ps = param.data;
  const float64 = param.float64Copy;
  if (float64 !== undefined) {
    // Keep the float64 companion exact and round once.
    const gs = grad.valuesForMath();
    for (let i = 0; i < float64.length; i++) {
      float64[i] -= learningRate * gs[i]!;
      ps[i] = float64[i]!;
    }
    return param;
  }
  const gs = grad.data;
  const rate = ctx.vector(1);
  rate[0] = learningRate;
  mapRows(ctx, 'sgdUpdate', { outer: ps.length, size: ps.length }, (r0, r1) => [ps, gs, rate, r0, r1]);
  return param;
}

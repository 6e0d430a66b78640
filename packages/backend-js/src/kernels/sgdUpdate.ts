import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `param − learningRate·grad`, in place: returns `param` itself (no new buffer per step). */
export function sgdUpdate(
  _ctx: KernelContext,
  param: JsTensor,
  grad: JsTensor,
  { learningRate }: { readonly learningRate: number },
): JsTensor {
  const ps = param.data;
  const wide = param.wide;
  if (wide !== undefined) {
    // Keep the float64 companion exact and round once.
    const gs = grad.precise();
    for (let i = 0; i < wide.length; i++) {
      wide[i] -= learningRate * gs[i]!;
      ps[i] = wide[i]!;
    }
    return param;
  }
  const gs = grad.data;
  for (let i = 0; i < ps.length; i++) ps[i] -= learningRate * gs[i]!;
  return param;
}

import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { columnsLayout, featureSums } from './featureSums.js';

/** Column sums by the same tree reduction as the batch statistics. */
export function sumRows(ctx: KernelContext, x: GpuTensor): GpuTensor {
  const [rows = 0, cols = 0] = x.shape;
  return featureSums(ctx, { kind: 'values', x }, columnsLayout(rows, cols));
}

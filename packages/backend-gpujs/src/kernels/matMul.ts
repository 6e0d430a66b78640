import type { MatMulAttrs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { dotRowColumn, type MatMulConstants } from './matMul_gpu.js';

export function matMul(ctx: KernelContext, a: GpuTensor, b: GpuTensor, attrs: MatMulAttrs = {}): GpuTensor {
  const [aRows = 0, aCols = 0] = a.shape;
  const [bRows = 0, bCols = 0] = b.shape;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const rows = transposeA ? aCols : aRows;
  const inner = transposeA ? aRows : aCols;
  const cols = transposeB ? bRows : bCols;
  const constants: MatMulConstants = {
    inner,
    aStrideRow: transposeA ? 1 : aCols,
    aStrideInner: transposeA ? aCols : 1,
    bStrideInner: transposeB ? 1 : bCols,
    bStrideCol: transposeB ? bCols : 1,
  };
  return ctx.run(
    `dotRowColumn:${aRows}x${aCols}${transposeA ? 'T' : ''}:${bRows}x${bCols}${transposeB ? 'T' : ''}`,
    dotRowColumn,
    { output: [cols, rows], constants },
    [a, b],
    [rows, cols],
  );
}

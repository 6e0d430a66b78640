import type { IKernelFunctionThis } from 'gpu.js';

/**
 * Strides turn the transposes into index arithmetic: `op(a)[i, p]` sits at
 * `i·aStrideRow + p·aStrideInner`, `op(b)[p, j]` at `p·bStrideInner + j·bStrideCol`.
 */
export interface MatMulConstants {
  [name: string]: number;
  inner: number;
  aStrideRow: number;
  aStrideInner: number;
  bStrideInner: number;
  bStrideCol: number;
}

/** Output `[cols, rows]` grid: thread (j, i) computes `Σ_p op(a)[i, p]·op(b)[p, j]`. */
export function dotRowColumn(this: IKernelFunctionThis<MatMulConstants>, a: number[], b: number[]): number {
  const i = this.thread.y;
  const j = this.thread.x;
  let sum = 0;
  for (let p = 0; p < this.constants.inner; p++) {
    sum += a[i * this.constants.aStrideRow + p * this.constants.aStrideInner] * b[p * this.constants.bStrideInner + j * this.constants.bStrideCol];
  }
  return sum;
}

import type { IKernelFunctionThis } from 'gpu.js';

/** `param − learningRate·grad`. */
export function stepAgainstGradient(this: IKernelFunctionThis, param: number[], grad: number[], learningRate: number): number {
  return param[this.thread.x] - learningRate * grad[this.thread.x];
}

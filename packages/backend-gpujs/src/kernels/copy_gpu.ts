import type { IKernelFunctionThis } from 'gpu.js';

/** `out[i] = values[i]`: moves host data into a texture (upload). */
export function copyValues(this: IKernelFunctionThis, values: number[]): number {
  return values[this.thread.x];
}

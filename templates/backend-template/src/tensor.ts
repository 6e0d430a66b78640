import type { Shape, TensorHandle } from '@batchnorm/core';

/**
 * This backend's tensor: float64 values in host memory. Only this backend looks inside it; replace
 * it with your engine's handle (a GPU buffer, an engine's tensor, …). It has the reference
 * tensor's structure, which lets the kernels you have not written yet be the reference's
 * (`referenceKernels`). The backend's `HandleRegistry` brands and freezes each one it hands out.
 */
export interface TemplateTensor extends TensorHandle {
  readonly shape: Shape;
  readonly data: Float64Array;
}

export function templateTensor(data: Float64Array, shape: Shape): TemplateTensor {
  return { data, shape: [...shape] };
}

import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { read, written, paramsStruct } from '../wgsl.js';
import { elementwiseDispatch, elementwiseShader } from './elementwise.js';

const shader = elementwiseShader(
  'sgdUpdate',
  { params: paramsStruct('learningRate: f32'), storage: [read('grad'), written('param')] },
  'param[e] = param[e] - p.learningRate * grad[e];',
);

export const shaders = [shader];

/** `param − learningRate·grad`, in place: returns `param` itself. */
export function sgdUpdate(
  ctx: KernelContext,
  paramHandle: WebGpuTensor,
  gradHandle: WebGpuTensor,
  { learningRate }: { readonly learningRate: number },
): WebGpuTensor {
  const param = gpuTensor(paramHandle, 'param', ctx);
  const grad = gpuTensor(gradHandle, 'grad', ctx);
  ctx.assertAlive();
  // One buffer cannot be bound writable and read-only in one dispatch: `sgdUpdate(p, p)` reads
  // a copy of the gradient.
  const aliased = grad.buffer() === param.buffer();
  const gradBuffer = aliased ? ctx.scratch(grad.bytes) : grad.buffer();
  ctx.run(
    'sgdUpdate',
    [
      elementwiseDispatch(
        ctx,
        shader,
        [{ buffer: gradBuffer, bytes: grad.bytes }, param.binding],
        param.size,
        param.bytes + grad.bytes,
        param.bytes,
        [['f32', learningRate]],
      ),
    ],
    aliased ? [gradBuffer] : [],
    aliased ? [{ from: grad.buffer(), to: gradBuffer, bytes: grad.bytes }] : [],
  );
  return param;
}

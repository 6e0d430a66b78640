import type { KernelName } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { Binding, Dispatch, Params, Shader } from '../dispatch.js';
import type { GpuTensor } from '../tensor.js';
import { bindings, read, written, type StorageBuffer } from '../wgsl.js';

/**
 * A shader over every element of its output, the last of `storage`, one invocation each: `body`
 * computes element `e` (the output's `arrayLength` bounds it).
 */
export function elementwiseShader(
  label: string,
  { params, storage, helpers = '' }: { params?: string; storage: readonly StorageBuffer[]; helpers?: string },
  body: string,
): Shader {
  const output = storage.at(-1)?.name ?? 'out';
  return {
    label,
    source: ({ workgroupSize }) => /* wgsl */ `
${bindings(params, storage)}
${helpers}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * ${workgroupSize}u;
  if (e >= arrayLength(&${output})) {
    return;
  }
  ${body}
}
`,
  };
}

/** One elementwise dispatch over `size` elements of 4 bytes. */
export function elementwiseDispatch(
  ctx: KernelContext,
  shader: Shader,
  buffers: readonly Binding[],
  size: number,
  bytesRead: number,
  bytesWritten: number,
  params?: Params,
): Dispatch {
  return {
    shader,
    buffers,
    workgroups: Math.ceil(size / ctx.config.workgroupSize),
    bytesRead,
    bytesWritten,
    ...(params === undefined ? {} : { params }),
  };
}

/** `out[e] = f(x[e])`: the buffers of a unary elementwise shader. */
export const UNARY = [read('x'), written('out')];

/** `out[e] = f(a[e], b[e])`: the buffers of a binary elementwise shader. */
export const BINARY = [read('a'), read('b'), written('out')];

/**
 * Runs an elementwise shader on `inputs`, bound in order, into a new tensor of the first one's
 * shape, bound last.
 */
export function runElementwise(
  ctx: KernelContext,
  kernel: KernelName,
  shader: Shader,
  inputs: readonly [GpuTensor, ...GpuTensor[]],
  params?: Params,
): GpuTensor {
  ctx.assertAlive();
  const out = ctx.tensor(inputs[0].shape, 'out');
  const buffers = [...inputs.map((t) => t.binding), out.binding];
  const bytesRead = inputs.reduce((total, t) => total + t.bytes, 0);
  ctx.run(kernel, [elementwiseDispatch(ctx, shader, buffers, out.size, bytesRead, out.bytes, params)]);
  return out;
}

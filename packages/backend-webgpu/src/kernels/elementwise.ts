import type { KernelName } from '@batchnorm/core';
import type { Binding, Dispatch, GpuContext, Params, Shader } from '../context.js';
import type { GpuTensor } from '../tensor.js';

/**
 * A shader over every element of its output, one invocation each: `body` computes element `e`
 * (the output's `arrayLength` bounds it). `declarations` binds the buffers.
 */
export function elementwiseShader(label: string, declarations: string, output: string, body: string): Shader {
  return {
    label,
    source: ({ workgroupSize }) => /* wgsl */ `
${declarations}

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
  ctx: GpuContext,
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
export const UNARY = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;`;

/** `out[e] = f(a[e], b[e])`: the buffers of a binary elementwise shader. */
export const BINARY = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`;

/** Runs a `UNARY` shader on `x` into a new tensor of its shape. */
export function runUnary(ctx: GpuContext, kernel: KernelName, shader: Shader, x: GpuTensor): GpuTensor {
  ctx.assertAlive();
  const out = ctx.tensor(x.shape, 'out');
  ctx.run(kernel, [
    elementwiseDispatch(
      ctx,
      shader,
      [
        { buffer: x.buffer(), bytes: x.bytes },
        { buffer: out.buffer(), bytes: out.bytes },
      ],
      out.size,
      x.bytes,
      out.bytes,
    ),
  ]);
  return out;
}

/** Runs a `BINARY` shader on `a` and `b` (same size) into a new tensor of `a`'s shape. */
export function runBinary(ctx: GpuContext, kernel: KernelName, shader: Shader, a: GpuTensor, b: GpuTensor): GpuTensor {
  ctx.assertAlive();
  const out = ctx.tensor(a.shape, 'out');
  ctx.run(kernel, [
    elementwiseDispatch(
      ctx,
      shader,
      [
        { buffer: a.buffer(), bytes: a.bytes },
        { buffer: b.buffer(), bytes: b.bytes },
        { buffer: out.buffer(), bytes: out.bytes },
      ],
      out.size,
      a.bytes + b.bytes,
      out.bytes,
    ),
  ]);
  return out;
}

import type { GpuContext, Shader } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { directives, laneArgs, laneParams, WORKGROUP_NUMBER, WORKGROUP_PARAMS, workgroupSum } from '../wgsl.js';

/** One workgroup per column: each invocation sums a stride of the rows, then the workgroup sum. */
const shader: Shader = {
  label: 'sumRows',
  source: (config) => /* wgsl */ `
${directives(config)}
struct Params {
  rows: u32,
  cols: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${workgroupSum('f32', config)}
@compute @workgroup_size(${config.workgroupSize})
fn main(${WORKGROUP_PARAMS}, ${laneParams(config)}) {
  ${WORKGROUP_NUMBER}
  if (wid >= p.cols) {
    return;
  }
  var acc = 0.0;
  for (var r = li; r < p.rows; r += ${config.workgroupSize}u) {
    acc += x[r * p.cols + wid];
  }
  let total = workgroupSum(acc, ${laneArgs(config)});
  if (li == 0u) {
    out[wid] = total;
  }
}
`,
};

export const shaders = [shader];

/** Column sums `[N, C] → [C]`. */
export function sumRows(ctx: GpuContext, xHandle: WebGpuTensor): WebGpuTensor {
  const x = gpuTensor(xHandle, 'x', ctx);
  ctx.assertAlive();
  const [rows = 1, cols = 1] = x.shape;
  const out = ctx.tensor([cols], 'out');
  ctx.run('sumRows', [
    {
      shader,
      params: [
        ['u32', rows],
        ['u32', cols],
      ],
      buffers: [
        { buffer: x.buffer(), bytes: x.bytes },
        { buffer: out.buffer(), bytes: out.bytes },
      ],
      workgroups: cols,
      bytesRead: x.bytes,
      bytesWritten: out.bytes,
    },
  ]);
  return out;
}

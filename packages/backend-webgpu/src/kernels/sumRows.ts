import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { paramsStruct, read, shaderSource, written } from '../wgsl.js';

/** One workgroup per column: each invocation sums a stride of the rows, then the workgroup sum. */
const shader = shaderSource({
  label: 'sumRows',
  params: paramsStruct('rows: u32', 'cols: u32'),
  storage: [read('x'), written('out')],
  sums: 'f32',
  grid: true,
  body: (workgroupSize, sum) => /* wgsl */ `  if (wid >= p.cols) {
    return;
  }
  var acc = 0.0;
  for (var r = li; r < p.rows; r += ${workgroupSize}u) {
    acc += x[r * p.cols + wid];
  }
  let total = ${sum('acc')};
  if (li == 0u) {
    out[wid] = total;
  }`,
});

export const shaders = [shader];

/** Column sums `[N, C] → [C]`. */
export function sumRows(ctx: KernelContext, xHandle: WebGpuTensor): WebGpuTensor {
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
      buffers: [x.binding, out.binding],
      workgroups: cols,
      bytesRead: x.bytes,
      bytesWritten: out.bytes,
    },
  ]);
  return out;
}

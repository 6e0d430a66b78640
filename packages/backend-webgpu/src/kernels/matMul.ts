import type { MatMulAttrs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { Shader } from '../dispatch.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { bindings, paramsStruct, read, written } from '../wgsl.js';

/**
 * `op(a)·op(b)`, one invocation per output element, in workgroups of `tile × tile` outputs. The
 * dot product runs in blocks of `tile` products, each block summed on its own before joining the
 * running sum, so a dot product of length K rounds through about `tile + K/tile` additions rather
 * than K (the order is fixed: same bits every run). No workgroup memory and no barriers: on a CPU
 * adapter (llvmpipe, SwiftShader) a barrier suspends every invocation of the workgroup (README
 * "Performance" has the measurement), and the operands of a training step's matMuls fit in any
 * cache.
 */
const shader: Shader = {
  label: 'matMul',
  source: ({ tile }) => /* wgsl */ `
${bindings(
  paramsStruct('m: u32', 'k: u32', 'n: u32', 'transposeA: u32', 'transposeB: u32', 'lda: u32', 'ldb: u32'),
  [read('a'), read('b'), written('out')],
)}

@compute @workgroup_size(${tile}, ${tile})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.y;
  let col = gid.x;
  if (row >= p.m || col >= p.n) {
    return;
  }
  // op(a)[row, q] = a[row·lda + q·1] or a[q·lda + row]; op(b)[q, col] = b[q·ldb + col] or b[col·ldb + q]
  let aBase = select(row * p.lda, row, p.transposeA == 1u);
  let aStep = select(1u, p.lda, p.transposeA == 1u);
  let bBase = select(col, col * p.ldb, p.transposeB == 1u);
  let bStep = select(p.ldb, 1u, p.transposeB == 1u);
  var acc = 0.0;
  for (var q0 = 0u; q0 < p.k; q0 += ${tile}u) {
    let q1 = min(q0 + ${tile}u, p.k);
    var partial = 0.0;
    for (var q = q0; q < q1; q++) {
      partial += a[aBase + q * aStep] * b[bBase + q * bStep];
    }
    acc += partial;
  }
  out[row * p.n + col] = acc;
}
`,
};

export const shaders = [shader];

/** `[M, K]·[K, N] → [M, N]`, `a` stored `[K, M]` under `transposeA`, `b` stored `[N, K]` under `transposeB`. */
export function matMul(ctx: KernelContext, aHandle: WebGpuTensor, bHandle: WebGpuTensor, attrs: MatMulAttrs = {}): WebGpuTensor {
  const a = gpuTensor(aHandle, 'a', ctx);
  const b = gpuTensor(bHandle, 'b', ctx);
  ctx.assertAlive();
  const [aRows = 1, aCols = 1] = a.shape;
  const [bRows = 1, bCols = 1] = b.shape;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const n = transposeB ? bRows : bCols;
  const out = ctx.tensor([m, n], 'out');
  const { tile } = ctx.config;
  ctx.run('matMul', [
    {
      shader,
      params: [
        ['u32', m],
        ['u32', k],
        ['u32', n],
        ['u32', transposeA ? 1 : 0],
        ['u32', transposeB ? 1 : 0],
        ['u32', aCols],
        ['u32', bCols],
      ],
      buffers: [a.binding, b.binding, out.binding],
      workgroups: [Math.ceil(n / tile), Math.ceil(m / tile)],
      // each output element reads a row of op(a) and a column of op(b)
      bytesRead: 4 * 2 * m * n * k,
      bytesWritten: out.bytes,
    },
  ]);
  return out;
}

import type { SoftmaxCrossEntropyOutputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { EXP_ACCURATE, paramsStruct, read, shaderSource, written } from '../wgsl.js';

/**
 * One workgroup: each invocation takes a stride of the rows (log-sum-exp from the row maximum, so
 * nothing overflows, with `expAccurate` rather than the builtin `exp`), writes their `dLogits`,
 * and the workgroup sums the rows' losses in a fixed order. Sized for a training step's batch
 * (tens to thousands of rows), one dispatch.
 */
const shader = shaderSource({
  label: 'softmaxCrossEntropy',
  params: paramsStruct('rows: u32', 'cols: u32'),
  storage: [read('logits'), read('labels'), written('loss'), written('dLogits')],
  helpers: EXP_ACCURATE,
  sums: 'f32',
  grid: false,
  body: (workgroupSize, sum) => /* wgsl */ `  let rows = f32(p.rows);
  var own = 0.0;
  for (var r = li; r < p.rows; r += ${workgroupSize}u) {
    let o = r * p.cols;
    var top = logits[o];
    for (var k = 1u; k < p.cols; k++) {
      top = max(top, logits[o + k]);
    }
    var sumExp = 0.0;
    for (var k = 0u; k < p.cols; k++) {
      sumExp += expAccurate(logits[o + k] - top);
    }
    let logSum = log(sumExp);
    for (var k = 0u; k < p.cols; k++) {
      let logP = (logits[o + k] - top) - logSum;
      own -= labels[o + k] * logP;
      dLogits[o + k] = (expAccurate(logP) - labels[o + k]) / rows;
    }
  }
  let total = ${sum('own')};
  if (li == 0u) {
    loss[0] = total / rows;
  }`,
});

export const shaders = [shader];

export function softmaxCrossEntropy(
  ctx: KernelContext,
  logitsHandle: WebGpuTensor,
  labelsHandle: WebGpuTensor,
): SoftmaxCrossEntropyOutputs<WebGpuTensor> {
  const logits = gpuTensor(logitsHandle, 'logits', ctx);
  const labels = gpuTensor(labelsHandle, 'labels', ctx);
  ctx.assertAlive();
  const [rows = 1, cols = 1] = logits.shape;
  const loss = ctx.tensor([1], 'loss');
  const dLogits = ctx.tensor(logits.shape, 'dLogits');
  ctx.run('softmaxCrossEntropy', [
    {
      shader,
      params: [
        ['u32', rows],
        ['u32', cols],
      ],
      buffers: [logits.binding, labels.binding, loss.binding, dLogits.binding],
      workgroups: 1,
      bytesRead: logits.bytes + labels.bytes,
      bytesWritten: loss.bytes + dLogits.bytes,
    },
  ]);
  return { loss, dLogits };
}

import type { SoftmaxCrossEntropyOutputs } from '@batchnorm/core';
import type { GpuContext, Shader } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { directives, EXP_ACCURATE, laneArgs, laneParams, workgroupSum } from '../wgsl.js';

/**
 * One workgroup: each invocation takes a stride of the rows (log-sum-exp from the row maximum, so
 * nothing overflows, with `expAccurate` rather than the builtin `exp`), writes their `dLogits`,
 * and the workgroup sums the rows' losses in a fixed order. Sized for a training step's batch
 * (tens to thousands of rows), one dispatch.
 */
const shader: Shader = {
  label: 'softmaxCrossEntropy',
  source: (config) => /* wgsl */ `
${directives(config)}
struct Params {
  rows: u32,
  cols: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dLogits: array<f32>;
${workgroupSum('f32', config)}
${EXP_ACCURATE}
@compute @workgroup_size(${config.workgroupSize})
fn main(${laneParams(config)}) {
  let rows = f32(p.rows);
  var own = 0.0;
  for (var r = li; r < p.rows; r += ${config.workgroupSize}u) {
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
  let total = workgroupSum(own, ${laneArgs(config)});
  if (li == 0u) {
    loss[0] = total / rows;
  }
}
`,
};

export const shaders = [shader];

export function softmaxCrossEntropy(
  ctx: GpuContext,
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
      buffers: [
        { buffer: logits.buffer(), bytes: logits.bytes },
        { buffer: labels.buffer(), bytes: labels.bytes },
        { buffer: loss.buffer(), bytes: loss.bytes },
        { buffer: dLogits.buffer(), bytes: dLogits.bytes },
      ],
      workgroups: 1,
      bytesRead: logits.bytes + labels.bytes,
      bytesWritten: loss.bytes + dLogits.bytes,
    },
  ]);
  return { loss, dLogits };
}

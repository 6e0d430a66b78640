import type { SoftmaxCrossEntropyOutputs } from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { EXP_REDUCTION } from './expReduction.js';
import { columnsLayout, featureSums } from './featureSums.js';
import { rowCrossEntropy, rowLogSumExp, softmaxCrossEntropyGradient } from './softmaxCrossEntropy_gpu.js';

export function softmaxCrossEntropy(
  device: Device,
  logits: GpuTensor,
  labels: GpuTensor,
): SoftmaxCrossEntropyOutputs<GpuTensor> {
  const [rows = 0, cols = 0] = logits.shape;
  const spec = { output: [rows], constants: { ...EXP_REDUCTION, cols, rows } };
  const logSumExp = device.run(`rowLogSumExp:${rows}x${cols}`, rowLogSumExp, spec, [logits], [rows]);
  const rowLoss = device.run(`rowCrossEntropy:${rows}x${cols}`, rowCrossEntropy, spec, [logits, labels, logSumExp], [rows]);
  const dLogits = device.run(
    `softmaxCrossEntropyGradient:${rows}x${cols}`,
    softmaxCrossEntropyGradient,
    { ...spec, output: [cols, rows] },
    [logits, labels, logSumExp],
    logits.shape,
  );
  // The mean over rows: the row losses as one column, by the tree reduction.
  const loss = featureSums(device, { kind: 'values', x: rowLoss }, columnsLayout(rows, 1), rows);
  device.release(logSumExp);
  device.release(rowLoss);
  return { loss, dLogits };
}

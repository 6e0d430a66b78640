import type { SoftmaxCrossEntropyOutputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { EXP_REDUCTION } from './expReduction.js';
import { columnsLayout, featureSums } from './featureSums.js';
import { rowCrossEntropy, rowLogSumExp, softmaxCrossEntropyGradient } from './softmaxCrossEntropy_gpu.js';

export function softmaxCrossEntropy(
  ctx: KernelContext,
  logits: GpuTensor,
  labels: GpuTensor,
): SoftmaxCrossEntropyOutputs<GpuTensor> {
  const [rows = 0, cols = 0] = logits.shape;
  const spec = { output: [rows], constants: { ...EXP_REDUCTION, cols, rows } };
  const logSumExp = ctx.run(`rowLogSumExp:${rows}x${cols}`, rowLogSumExp, spec, [logits], [rows]);
  const rowLoss = ctx.run(`rowCrossEntropy:${rows}x${cols}`, rowCrossEntropy, spec, [logits, labels, logSumExp], [rows]);
  const dLogits = ctx.run(
    `softmaxCrossEntropyGradient:${rows}x${cols}`,
    softmaxCrossEntropyGradient,
    { ...spec, output: [cols, rows] },
    [logits, labels, logSumExp],
    logits.shape,
  );
  // The mean over rows: the row losses as one column, by the tree reduction.
  const loss = featureSums(ctx, { kind: 'values', x: rowLoss }, columnsLayout(rows, 1), rows);
  ctx.release(logSumExp);
  ctx.release(rowLoss);
  return { loss, dLogits };
}

import type { SoftmaxCrossEntropyOutputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/**
 * Mean softmax cross-entropy of `logits [N, K]` against `labels [N, K]` and its gradient
 * `(softmax − labels)/N`; the row maximum is subtracted first so `exp` cannot overflow.
 */
export function softmaxCrossEntropy(
  ctx: KernelContext,
  logits: JsTensor,
  labels: JsTensor,
): SoftmaxCrossEntropyOutputs<JsTensor> {
  const [rows = 0, cols = 0] = logits.shape;
  const zs = logits.data;
  const ts = labels.data;
  const dLogits = ctx.output(logits.shape, rows * cols);
  const ds = dLogits.data;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let k = 0; k < cols; k++) if (zs[o + k]! > max) max = zs[o + k]!;
    let sumExp = 0;
    for (let k = 0; k < cols; k++) sumExp += Math.exp(zs[o + k]! - max);
    const logSumExp = max + Math.log(sumExp);
    for (let k = 0; k < cols; k++) {
      const logP = zs[o + k]! - logSumExp;
      loss -= ts[o + k]! * logP;
      ds[o + k] = (Math.exp(logP) - ts[o + k]!) / rows;
    }
  }
  return { loss: ctx.vectorTensor(Float64Array.of(loss / rows), [1]), dLogits };
}

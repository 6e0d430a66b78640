import type { SoftmaxCrossEntropyOutputs } from '../../backend.js';
import { referenceTensor, type ReferenceTensor } from '../tensor.js';

/**
 * `loss = −(1/N)·Σ_n Σ_k labels[n,k]·log softmax(logits)[n,k]`, and its gradient
 * `(softmax − labels)/N`. The row maximum is subtracted first so `exp` cannot overflow.
 */
export function softmaxCrossEntropy(
  logits: ReferenceTensor,
  labels: ReferenceTensor,
): SoftmaxCrossEntropyOutputs<ReferenceTensor> {
  const [rows = 0, cols = 0] = logits.shape;
  const dLogits = new Float64Array(rows * cols);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let k = 0; k < cols; k++) max = Math.max(max, logits.data[o + k]!);
    let sumExp = 0;
    for (let k = 0; k < cols; k++) sumExp += Math.exp(logits.data[o + k]! - max);
    const logSumExp = max + Math.log(sumExp);
    for (let k = 0; k < cols; k++) {
      const logP = logits.data[o + k]! - logSumExp;
      loss -= labels.data[o + k]! * logP;
      dLogits[o + k] = (Math.exp(logP) - labels.data[o + k]!) / rows;
    }
  }
  return {
    loss: referenceTensor(Float64Array.of(loss / rows), [1]),
    dLogits: referenceTensor(dLogits, logits.shape),
  };
}

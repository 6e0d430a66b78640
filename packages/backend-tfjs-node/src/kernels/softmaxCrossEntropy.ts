import type { SoftmaxCrossEntropyOutputs } from '@batchnorm/core';
import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * Through `logSoftmax` (which subtracts the row maximum): `loss = −mean_n Σ_k labels·logP`,
 * `dLogits = (exp(logP) − labels)/N`. Works for soft labels too.
 */
export function softmaxCrossEntropy(
  { tf }: TensorFlowOps,
  logits: TfjsNodeTensor,
  labels: TfjsNodeTensor,
): SoftmaxCrossEntropyOutputs<TfjsNodeTensor> {
  const rows = logits.shape[0]!;
  const [loss, dLogits] = tf.tidy(() => {
    const logP = tf.logSoftmax(logits.tensor);
    const lossValue = tf.reshape(tf.div(tf.neg(tf.sum(tf.mul(labels.tensor, logP))), rows), [1]);
    const gradient = tf.div(tf.sub(tf.exp(logP), labels.tensor), rows);
    return [lossValue, gradient];
  });
  return { loss: wrap(loss!, [1]), dLogits: wrap(dLogits!, logits.shape) };
}

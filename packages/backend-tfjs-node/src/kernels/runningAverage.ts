import type { RunningAverageAttrs, RunningAverageInputs } from '@batchnorm/core';
import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function runningAverage(
  { tf }: TensorFlowOps,
  { running, batch }: RunningAverageInputs<TfjsNodeTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): TfjsNodeTensor {
  const out = tf.tidy(() => tf.add(tf.mul(running.tensor, 1 - factor), tf.mul(batch.tensor, factor * batchScale)));
  return wrap(out, running.shape);
}

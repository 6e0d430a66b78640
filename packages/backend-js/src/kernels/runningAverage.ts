import type { RunningAverageAttrs, RunningAverageInputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** `(1 − factor)·running + factor·batchScale·batch`, computed in float64. */
export function runningAverage(
  ctx: KernelContext,
  { running, batch }: RunningAverageInputs<JsTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): JsTensor {
  const previous = running.valuesForMath();
  const current = batch.valuesForMath();
  const out = new Float64Array(previous.length);
  for (let k = 0; k < out.length; k++) {
    out[k] = (1 - factor) * previous[k]! + factor * batchScale * current[k]!;
  }
  return ctx.vectorTensor(out, running.shape);
}

import type { RunningAverageAttrs, RunningAverageInputs } from '../../backend.js';
import { referenceTensor, type ReferenceTensor } from '../tensor.js';

export function runningAverage(
  { running, batch }: RunningAverageInputs<ReferenceTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): ReferenceTensor {
  const out = new Float64Array(running.data.length);
  for (let k = 0; k < out.length; k++) {
    out[k] = (1 - factor) * running.data[k]! + factor * batchScale * batch.data[k]!;
  }
  return referenceTensor(out, running.shape);
}

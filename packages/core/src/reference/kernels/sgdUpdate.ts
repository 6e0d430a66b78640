import { referenceTensor, type ReferenceTensor } from '../tensor.js';

/** Returns a new tensor; the reference never mutates its inputs. */
export function sgdUpdate(
  param: ReferenceTensor,
  grad: ReferenceTensor,
  { learningRate }: { readonly learningRate: number },
): ReferenceTensor {
  return referenceTensor(param.data.map((p, i) => p - learningRate * grad.data[i]!), param.shape);
}

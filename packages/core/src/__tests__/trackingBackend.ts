import type { TensorHandle } from '../backend.js';
import type { SyncBackend } from '../reads.js';

/**
 * Wraps a backend and counts the tensors alive (made by `upload` or a kernel, not yet disposed),
 * to check that the layer disposes what it owns and nothing it does not.
 */
export function trackingBackend<T extends TensorHandle, S>(
  inner: SyncBackend<T, S>,
): { backend: SyncBackend<T, S>; live: Set<T> } {
  const live = new Set<T>();
  const track = <R>(result: R): R => {
    if (typeof result === 'object' && result !== null && 'shape' in result) {
      live.add(result as unknown as T);
    } else if (typeof result === 'object' && result !== null) {
      // the handles among the outputs (not `saved`, which disposeSaved releases)
      for (const [key, value] of Object.entries(result)) if (key !== 'saved') live.add(value as T);
    }
    return result;
  };
  const backend: SyncBackend<T, S> = {
    name: inner.name,
    specificationVersion: inner.specificationVersion,
    dtype: inner.dtype,
    details: inner.details,
    isTensor: (value): value is T => inner.isTensor(value),
    upload: (data, shape) => track(inner.upload(data, shape)),
    read: (t) => inner.read(t),
    readSync: (t) => inner.readSync(t),
    dispose(t) {
      live.delete(t);
      inner.dispose(t);
    },
    disposeSaved: (saved) => inner.disposeSaved(saved),
    destroy: () => inner.destroy(),
    batchNormForwardTraining: (inputs, attrs) => track(inner.batchNormForwardTraining(inputs, attrs)),
    batchNormForwardInference: (inputs, attrs) => track(inner.batchNormForwardInference(inputs, attrs)),
    batchNormBackward: (inputs, attrs) => track(inner.batchNormBackward(inputs, attrs)),
    runningAverage: (inputs, attrs) => track(inner.runningAverage(inputs, attrs)),
    matMul: (a, b, attrs) => track(inner.matMul(a, b, attrs)),
    addBias: (x, bias) => track(inner.addBias(x, bias)),
    sumRows: (x) => track(inner.sumRows(x)),
    sigmoid: (x) => track(inner.sigmoid(x)),
    sigmoidBackward: (dy, y) => track(inner.sigmoidBackward(dy, y)),
    relu: (x) => track(inner.relu(x)),
    reluBackward: (dy, x) => track(inner.reluBackward(dy, x)),
    softmaxCrossEntropy: (logits, labels) => track(inner.softmaxCrossEntropy(logits, labels)),
    sgdUpdate(param, grad, attrs) {
      // the contract: param is consumed, the result is the caller's
      live.delete(param);
      return track(inner.sgdUpdate(param, grad, attrs));
    },
  };
  return { backend, live };
}

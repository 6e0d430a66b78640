import { readInto, type Backend, type TensorData, type TensorHandle } from '@batchnorm/core';
import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import type { KernelSubject, PreparedKernel } from './subject.js';

/**
 * One of our backends, driven through core's `Backend` contract; reading every output back is
 * timed too, into host buffers allocated once (as a training loop would) where the backend can
 * read into one, so the timing is not of fresh-page faults (~100× slower to write here than
 * memory already touched).
 * `beforePrepare` restores what the backend needs of shared global state (tfjs-node's engine
 * must be the active tfjs backend again after the wasm and cpu anchors ran).
 */
export function contractSubject<T extends TensorHandle>(
  backend: Backend<T>,
  beforePrepare: () => Promise<void> = async () => {},
): KernelSubject {
  return {
    name: backend.name,
    details: backend.details,
    prepare: async (op, inputs) => {
      await beforePrepare();
      return prepareKernel(backend, op, inputs);
    },
    destroy: () => backend.destroy(),
  };
}

function prepareKernel<T extends TensorHandle>(b: Backend<T>, op: KernelOp, inputs: KernelInputs): PreparedKernel {
  const c = inputs.gamma.length;
  const attrs = { layout: inputs.layout, epsilon: inputs.epsilon };
  const owned: T[] = [];
  const upload = (data: Float32Array, shape: readonly number[]): T => {
    const t = b.upload(data, shape);
    owned.push(t);
    return t;
  };
  const x = upload(inputs.x, inputs.shape);
  const gamma = upload(inputs.gamma, [c]);
  const beta = upload(inputs.beta, [c]);
  const dispose = () => owned.forEach((t) => b.dispose(t));
  const hostBuffers = new Map<string, TensorData>();
  // A backend with readInto copies into a host buffer reused across calls; one without (tfjs-node,
  // whose binding always answers with a fresh array) is read with readSync, as a user would:
  // going through core's readInto there would add a copy that no anchor pays.
  const read = (key: string, t: T): TensorData => {
    if (b.readInto === undefined) return b.readSync(t);
    let out = hostBuffers.get(key);
    if (out === undefined) {
      const size = t.shape.reduce((a, d) => a * d, 1);
      out = (b.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size)).fill(0);
      hostBuffers.set(key, out);
    }
    readInto(b, t, out);
    return out;
  };
  switch (op) {
    case 'forwardTraining':
      return {
        run() {
          const { y, mean, variance } = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
          const outputs = { y: read('y', y), mean: read('mean', mean), variance: read('variance', variance) };
          [y, mean, variance].forEach((t) => b.dispose(t));
          return outputs;
        },
        dispose,
      };
    case 'forwardInference': {
      const mean = upload(inputs.populationMean, [c]);
      const variance = upload(inputs.populationVariance, [c]);
      return {
        run() {
          const y = b.batchNormForwardInference({ x, gamma, beta, mean, variance }, attrs);
          const outputs = { y: read('y', y) };
          b.dispose(y);
          return outputs;
        },
        dispose,
      };
    }
    case 'backward': {
      const dy = upload(inputs.dy, inputs.shape);
      // The saved statistics come from this backend's own training forward, as in training.
      const forward = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
      b.dispose(forward.y);
      owned.push(forward.mean, forward.variance);
      const { mean, variance } = forward;
      return {
        run() {
          const { dx, dgamma, dbeta } = b.batchNormBackward({ dy, x, gamma, mean, variance }, attrs);
          const outputs = { dx: read('dx', dx), dgamma: read('dgamma', dgamma), dbeta: read('dbeta', dbeta) };
          [dx, dgamma, dbeta].forEach((t) => b.dispose(t));
          return outputs;
        },
        dispose,
      };
    }
  }
}

import type { Backend, TensorHandle } from '@batchnorm/core';
import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import type { KernelSubject, PreparedKernel } from './subject.js';

/**
 * One of our backends, driven through core's `Backend` contract; `readSync` is timed too.
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
  switch (op) {
    case 'forwardTraining':
      return {
        run() {
          const { y, mean, variance } = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
          const outputs = { y: b.readSync(y), mean: b.readSync(mean), variance: b.readSync(variance) };
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
          const outputs = { y: b.readSync(y) };
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
          const outputs = { dx: b.readSync(dx), dgamma: b.readSync(dgamma), dbeta: b.readSync(dbeta) };
          [dx, dgamma, dbeta].forEach((t) => b.dispose(t));
          return outputs;
        },
        dispose,
      };
    }
  }
}

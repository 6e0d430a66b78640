import { hasSyncReads, readInto, type Backend, type TensorData, type TensorHandle } from '@batchnorm/core';
import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import type { KernelOutputs, KernelSubject, PreparedKernel } from './subject.js';

/**
 * One of our backends, driven through core's `Backend` contract; reading every output back is
 * timed too, through the cheapest read the backend declares (see `hostReader`).
 * `beforePrepare` restores what the backend needs of shared global state (a backend on
 * tfjs-node needs TensorFlow's engine to be the active tfjs backend again after the wasm and cpu
 * anchors ran).
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

/** Reads a tensor back inside the timed call; `key` names a host buffer reused across calls. */
type HostReader<T> =
  | { readonly isAsync: false; read(key: string, t: T): TensorData }
  | { readonly isAsync: true; read(key: string, t: T): Promise<TensorData> };

/**
 * The read a training loop would use, by capability: `readInto` into host buffers allocated once
 * (so the timing is not of fresh-page faults, ~100× slower to write here than memory already
 * touched); else `readSync`, as a user would (tfjs-node's binding always answers with a fresh
 * array: going through core's `readInto` there would add a copy that no anchor pays); else the
 * asynchronous `read`, awaited inside the timed call.
 */
function hostReader<T extends TensorHandle>(b: Backend<T>): HostReader<T> {
  if (b.readInto !== undefined) {
    const buffers = new Map<string, TensorData>();
    return {
      isAsync: false,
      read(key, t) {
        let out = buffers.get(key);
        if (out === undefined) {
          const size = t.shape.reduce((a, d) => a * d, 1);
          out = (b.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size)).fill(0);
          buffers.set(key, out);
        }
        readInto(b, t, out);
        return out;
      },
    };
  }
  if (hasSyncReads(b)) return { isAsync: false, read: (_key, t) => b.readSync(t) };
  return { isAsync: true, read: (_key, t) => b.read(t) };
}

/** Reads every named output (started together), then disposes them. */
function readOutputs<T extends TensorHandle>(
  b: Backend<T>,
  reader: HostReader<T>,
  named: Readonly<Record<string, T>>,
): KernelOutputs | Promise<KernelOutputs> {
  const entries = Object.entries(named);
  if (!reader.isAsync) {
    const outputs = Object.fromEntries(entries.map(([key, t]) => [key, reader.read(key, t)]));
    entries.forEach(([, t]) => b.dispose(t));
    return outputs;
  }
  // `read` captures the values when called: the tensors may go at once.
  const reads = entries.map(([key, t]) => reader.read(key, t));
  entries.forEach(([, t]) => b.dispose(t));
  return Promise.all(reads).then((values) => Object.fromEntries(entries.map(([key], i) => [key, values[i]!])));
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
  const reader = hostReader(b);
  const { isAsync } = reader;
  switch (op) {
    case 'forwardTraining':
      return {
        isAsync,
        run() {
          const { y, mean, variance, saved } = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
          b.disposeSaved(saved);
          return readOutputs(b, reader, { y, mean, variance });
        },
        dispose,
      };
    case 'forwardInference': {
      const mean = upload(inputs.populationMean, [c]);
      const variance = upload(inputs.populationVariance, [c]);
      return {
        isAsync,
        run: () => readOutputs(b, reader, { y: b.batchNormForwardInference({ x, gamma, beta, mean, variance }, attrs) }),
        dispose,
      };
    }
    case 'backward': {
      const dy = upload(inputs.dy, inputs.shape);
      // `saved` comes from this backend's own training forward, as in training.
      const forward = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
      [forward.y, forward.mean, forward.variance].forEach((t) => b.dispose(t));
      const { saved } = forward;
      return {
        isAsync,
        run() {
          const { dx, dgamma, dbeta } = b.batchNormBackward({ dy, x, gamma, saved }, attrs);
          return readOutputs(b, reader, { dx, dgamma, dbeta });
        },
        dispose() {
          b.disposeSaved(saved);
          dispose();
        },
      };
    }
  }
}

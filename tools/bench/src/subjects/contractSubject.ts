import { hasSyncReads, readInto, type Backend, type TensorData, type TensorHandle } from '@batchnorm/core';
import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import type { KernelOutputs, KernelSubject, PreparedKernel, ResidentRun, SubjectCounters } from './subject.js';

/**
 * How a resident call of `b` waits for its work to finish without reading anything, from what
 * the backend says of itself (core's `completion`): the call itself when its kernels complete on
 * return, `onSubmittedWorkDone()` when queued work can be awaited (webgpu); otherwise there is
 * no honest resident time (gpu.js on WebGL queues draws and offers no wait but a pixel read,
 * which is the read-back). `residence` (the manifest's) only serves a backend that predates
 * `completion`: a host-resident one's outputs are in host memory when its call returns.
 */
export function residentWait(
  b: Backend,
  residence?: 'host' | 'device',
): { wait?: () => Promise<void>; how: string } | { unavailable: string } {
  if (b.completion === 'on-return') return { how: 'synchronous kernels (the backend completes its work in the call)' };
  // the capability itself says the work can be awaited, whether or not `completion` says queued
  if (b.onSubmittedWorkDone !== undefined) {
    return { wait: () => b.onSubmittedWorkDone!(), how: 'waits for the queued work (onSubmittedWorkDone())' };
  }
  if (b.completion === undefined && residence === 'host') {
    return { how: 'synchronous kernels (a host-resident backend: outputs in host memory when the call returns)' };
  }
  return {
    unavailable: `not timed resident: ${b.name} ${b.completion === 'queued' ? 'queues its work' : 'says not how its calls complete'} and offers no way to wait for it but a read (the read-back)`,
  };
}

/** The kernel each op times, in a backend's own counters. */
const KERNEL_OF: Readonly<Record<KernelOp, string>> = {
  forwardTraining: 'batchNormForwardTraining',
  forwardInference: 'batchNormForwardInference',
  backward: 'batchNormBackward',
};

/**
 * A backend that keeps counters (`stats()` and `resetStats()`, webgpu's) gives them per case:
 * its top-level fields as they are, and of its per-kernel table (`kernels`) the timed kernel's
 * entry as `kernel`, whatever fields either has (timestamp splits among them, where present).
 */
export function countersOf(b: Backend): SubjectCounters | undefined {
  const { stats, resetStats } = b as { stats?: unknown; resetStats?: unknown };
  if (typeof stats !== 'function' || typeof resetStats !== 'function') return undefined;
  return {
    reset: () => void (resetStats as () => void).call(b),
    snapshot(op) {
      const all = (stats as () => unknown).call(b);
      if (typeof all !== 'object' || all === null) return { value: all };
      const { kernels, ...rest } = all as Record<string, unknown>;
      const kernel = typeof kernels === 'object' && kernels !== null ? (kernels as Record<string, unknown>)[KERNEL_OF[op]] : undefined;
      return { ...(kernel === undefined ? {} : { kernel }), ...rest };
    },
  };
}

/** Software GPU adapters and renderers: their times say nothing about a GPU. */
const SOFTWARE_GPU = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/** Why `b`'s times are no speed claim on this machine, or undefined. */
export function noSpeedClaim(b: Backend): string | undefined {
  if (b.name === 'gpujs' && b.details.mode !== 'cpu') {
    return 'gpu.js on WebGL: on a machine without a GPU (Xvfb, Mesa) this is a software renderer';
  }
  const adapter = [b.details.adapter, b.details.device, b.details.description].filter((v) => typeof v === 'string').join(' ');
  return SOFTWARE_GPU.test(adapter) ? `software adapter (${adapter.slice(0, 80)})` : undefined;
}

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
  residence?: 'host' | 'device',
): KernelSubject {
  const wait = residentWait(backend, residence);
  const counters = countersOf(backend);
  const claim = noSpeedClaim(backend);
  return {
    name: backend.name,
    details: backend.details,
    resident: 'unavailable' in wait ? wait.unavailable : wait.how,
    ...(counters === undefined ? {} : { counters }),
    ...(claim === undefined ? {} : { noSpeedClaim: claim }),
    prepare: async (op, inputs) => {
      await beforePrepare();
      return prepareKernel(backend, op, inputs, wait);
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

function prepareKernel<T extends TensorHandle>(
  b: Backend<T>,
  op: KernelOp,
  inputs: KernelInputs,
  wait: ReturnType<typeof residentWait>,
): PreparedKernel {
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
  /** `kernel` then disposing its outputs unread, and waiting for the work where needed. */
  const resident = (kernel: () => T[]): PreparedKernel['resident'] => {
    if ('unavailable' in wait) return { unavailable: wait.unavailable };
    const done = wait.wait;
    const run: ResidentRun =
      done === undefined
        ? { isAsync: false, run: () => kernel().forEach((t) => b.dispose(t)) }
        : {
            isAsync: true,
            run: () => {
              kernel().forEach((t) => b.dispose(t));
              return done();
            },
          };
    return run;
  };
  switch (op) {
    case 'forwardTraining':
      return {
        isAsync,
        run() {
          const { y, mean, variance, saved } = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
          b.disposeSaved(saved);
          return readOutputs(b, reader, { y, mean, variance });
        },
        resident: resident(() => {
          const { y, mean, variance, saved } = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
          b.disposeSaved(saved);
          return [y, mean, variance];
        }),
        dispose,
      };
    case 'forwardInference': {
      const mean = upload(inputs.populationMean, [c]);
      const variance = upload(inputs.populationVariance, [c]);
      const infer = () => b.batchNormForwardInference({ x, gamma, beta, mean, variance }, attrs);
      return {
        isAsync,
        run: () => readOutputs(b, reader, { y: infer() }),
        resident: resident(() => [infer()]),
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
        resident: resident(() => {
          const { dx, dgamma, dbeta } = b.batchNormBackward({ dy, x, gamma, saved }, attrs);
          return [dx, dgamma, dbeta];
        }),
        dispose() {
          b.disposeSaved(saved);
          dispose();
        },
      };
    }
  }
}

import { Worker } from 'node:worker_threads';
import type { Backend, BackendOptions } from '@batchnorm/core';
import type { Dataset, Split } from './data.js';
import type { TrainedModel } from './export.js';
import type { Variant } from './model.js';
import type { EvalRecord, ExperimentConfig, RunRecord, VariantCheckpoint } from './records.js';
import { newRecord, type VariantDriver } from './variantRun.js';

/** The backend a worker creates for its variant: a registry name and its options. */
export interface WorkerBackend {
  readonly name: string;
  readonly options: BackendOptions;
}

/** What a worker starts from (its `workerData`). */
export interface VariantThreadData {
  readonly backend: WorkerBackend;
  readonly config: ExperimentConfig;
  readonly variant: Variant;
  /** In shared memory: every worker reads the one copy. */
  readonly dataset: Dataset;
  readonly testImages: number;
  readonly saved: VariantCheckpoint | undefined;
  readonly overrides: Partial<RunRecord>;
}

/** A request the worker answers (`done` or `failed` with its id), one at a time in order. */
export type VariantJob = { readonly op: 'trainTo'; readonly target: number } | { readonly op: 'evaluate' | 'checkpoint' | 'trainedModel' };

export type VariantRequest = (VariantJob & { readonly id: number }) | { readonly op: 'stop' | 'dispose' };

export type VariantReply =
  | { readonly kind: 'step'; readonly loss: number; readonly record: Partial<RunRecord> }
  | { readonly kind: 'done'; readonly id: number; readonly result: unknown; readonly record: RunRecord }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string; readonly stack?: string };

const shared = new WeakMap<Dataset, Dataset>();

/** `dataset` with its arrays in shared memory, copied once however many workers read it. */
export function sharedDataset(dataset: Dataset): Dataset {
  const share = <A extends Float32Array | Uint8Array>(array: A, make: (buffer: SharedArrayBuffer) => A): A => {
    if (array.buffer instanceof SharedArrayBuffer) return array;
    const copy = make(new SharedArrayBuffer(array.byteLength));
    copy.set(array);
    return copy;
  };
  const split = (s: Split): Split => ({
    ...s,
    images: share(s.images, (buffer) => new Float32Array(buffer)),
    labels: share(s.labels, (buffer) => new Uint8Array(buffer)),
  });
  let result = shared.get(dataset);
  if (result === undefined) {
    result = { directory: dataset.directory, train: split(dataset.train), test: split(dataset.test) };
    shared.set(dataset, result);
  }
  return result;
}

/**
 * A variant trained in a worker thread (`variantThread.ts`) on a backend of its own, so the
 * variants of an experiment run at once, each on its own core. Its `record` follows the worker's.
 */
export class VariantWorker implements VariantDriver {
  readonly record: RunRecord;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #onStep: ((loss: number) => void) | undefined;
  #exited: Error | undefined;

  constructor(
    backend: WorkerBackend,
    start: Omit<VariantThreadData, 'backend'> & { readonly backend: Backend },
  ) {
    const { config, variant, saved, overrides, testImages } = start;
    this.record = newRecord(config, variant, start.backend, testImages);
    if (saved !== undefined) Object.assign(this.record, { ...saved.record, evals: [...saved.record.evals], ...overrides });
    const workerData: VariantThreadData = { ...start, backend, dataset: sharedDataset(start.dataset) };
    this.#worker = new Worker(new URL('./variantThread.js', import.meta.url), { workerData });
    this.#worker.on('message', (reply: VariantReply) => this.#receive(reply));
    const fail = (error: Error) => {
      this.#exited ??= error;
      for (const { reject } of this.#pending.values()) reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the worker training ${variant} exited (code ${code})`)));
  }

  #receive(reply: VariantReply): void {
    if (reply.kind === 'step') {
      Object.assign(this.record, reply.record);
      this.#onStep?.(reply.loss);
      return;
    }
    const pending = this.#pending.get(reply.id);
    this.#pending.delete(reply.id);
    if (reply.kind === 'done') {
      Object.assign(this.record, reply.record);
      pending?.resolve(reply.result);
    } else {
      const error = new Error(reply.message);
      if (reply.stack !== undefined) error.stack = reply.stack;
      pending?.reject(error);
    }
  }

  #request<R>(job: VariantJob): Promise<R> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...job, id } satisfies VariantRequest);
    });
  }

  async trainTo(target: number, signal: AbortSignal | undefined, onStep: (loss: number) => void): Promise<void> {
    if (signal?.aborted === true) return;
    const stop = () => this.#worker.postMessage({ op: 'stop' } satisfies VariantRequest);
    signal?.addEventListener('abort', stop, { once: true });
    this.#onStep = onStep;
    try {
      await this.#request({ op: 'trainTo', target });
    } finally {
      this.#onStep = undefined;
      signal?.removeEventListener('abort', stop);
    }
  }

  evaluate(): Promise<EvalRecord> {
    return this.#request({ op: 'evaluate' });
  }

  checkpoint(): Promise<VariantCheckpoint> {
    return this.#request({ op: 'checkpoint' });
  }

  trainedModel(): Promise<TrainedModel | undefined> {
    return this.#request({ op: 'trainedModel' });
  }

  /** Lets the worker destroy its backend and end. */
  dispose(): void {
    if (this.#exited === undefined) this.#worker.postMessage({ op: 'dispose' } satisfies VariantRequest);
    this.#worker.unref();
  }
}

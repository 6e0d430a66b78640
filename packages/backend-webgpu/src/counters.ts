import type { KernelName } from '@batchnorm/core';
import { keepAlive } from './keepAlive.js';
import { MAP_MODE_READ, RESOLVE_USAGE, STAGING_USAGE, type BufferPool } from './pool.js';
import type { KernelCounters } from './types.js';

/** Counters as kept: GPU time in nanoseconds (summed exactly as integers up to 2⁵³ ns, 104 days). */
export interface Counters extends Omit<KernelCounters, 'gpuMs'> {
  gpuNs: number;
}

export function zeroCounters(): Record<KernelName, Counters> {
  const zero = (): Counters => ({ calls: 0, dispatches: 0, bytesRead: 0, bytesWritten: 0, submitMs: 0, gpuNs: 0 });
  return {
    batchNormForwardTraining: zero(),
    batchNormForwardInference: zero(),
    batchNormBackward: zero(),
    runningAverage: zero(),
    matMul: zero(),
    addBias: zero(),
    sumRows: zero(),
    sigmoid: zero(),
    sigmoidBackward: zero(),
    relu: zero(),
    reluBackward: zero(),
    softmaxCrossEntropy: zero(),
    sgdUpdate: zero(),
  };
}

/** Where one kernel call's two timestamps go: resolved, then copied out to be mapped. */
interface Stamps {
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly staging: GPUBuffer;
}

/**
 * GPU time of kernel calls from timestamp queries: the start of a call's first pass and the end
 * of its last, in a two-entry query set per call (reused once its values are resolved).
 */
export class GpuTimer {
  readonly #device: GPUDevice;
  readonly #pool: BufferPool;
  /** Free two-entry timestamp query sets. */
  readonly #querySets: GPUQuerySet[] = [];
  /** Timestamp read-backs in flight. */
  readonly #pending = new Set<Promise<void>>();

  constructor(device: GPUDevice, pool: BufferPool) {
    this.#device = device;
    this.#pool = pool;
  }

  /** A query set for the next call's passes. */
  querySet(): GPUQuerySet {
    return this.#querySets.pop() ?? this.#device.createQuerySet({ type: 'timestamp', count: 2, label: 'kernel time' });
  }

  /** Encodes the resolve of the call's query set, after its passes. */
  resolve(encoder: GPUCommandEncoder, querySet: GPUQuerySet): Stamps {
    const stamps = { querySet, resolve: this.#pool.take(16, RESOLVE_USAGE), staging: this.#pool.take(16, STAGING_USAGE) };
    encoder.resolveQuerySet(querySet, 0, 2, stamps.resolve, 0);
    encoder.copyBufferToBuffer(stamps.resolve, 0, stamps.staging, 0, 16);
    return stamps;
  }

  /** After the submit: adds the call's GPU time (end − start, in ns) to `counters` once mapped. */
  read(counters: Counters, { querySet, resolve, staging }: Stamps, release: (buffer: GPUBuffer) => void): void {
    release(resolve);
    // the query set may be written again by a later call: the queue resolves this one first
    this.#querySets.push(querySet);
    const pending: Promise<void> = keepAlive(staging.mapAsync(MAP_MODE_READ, 0, 16)).then(
      () => {
        const [start, end] = new BigUint64Array(staging.getMappedRange(0, 16).slice(0));
        staging.unmap();
        release(staging);
        // an implementation may report end < start (timestamps can be reset): count nothing then
        if (start !== undefined && end !== undefined && end >= start) counters.gpuNs += Number(end - start);
      },
      // a lost device loses its timings too; the kernels say so themselves
      () => undefined,
    );
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
  }

  /** Calls whose timestamps are not read yet. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The read-backs in flight now: each settles once its call's time is counted. */
  inFlight(): Promise<void>[] {
    return [...this.#pending];
  }

  destroy(): void {
    for (const querySet of this.#querySets.splice(0)) querySet.destroy();
  }
}

// The browser (and default) implementation of `#platform`: helpers are Web Workers over shared
// memory, started from a Blob URL of the same self-contained source (so it works from any bundle,
// with no worker file to locate). Only a cross-origin isolated page has SharedArrayBuffer.
import type { ControlWords, HelperInit, HelperThread, Platform, ThreadEnvironment } from './platform.js';

// The few browser globals used here, typed locally: the package compiles without the DOM library.
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onerror: ((event: unknown) => void) | null;
  onmessageerror: ((event: unknown) => void) | null;
}
interface BrowserGlobals {
  readonly crossOriginIsolated?: boolean;
  readonly navigator?: { readonly hardwareConcurrency?: number };
  readonly SharedArrayBuffer?: unknown;
  readonly Worker?: new (url: string, options?: { name?: string }) => WebWorker;
  readonly Blob?: new (parts: string[], options: { type: string }) => object;
  readonly URL: { createObjectURL?(blob: object): string; revokeObjectURL?(url: string): void };
}

const host = globalThis as unknown as BrowserGlobals;

/**
 * The helper's script: the job source, then a message handler. A Web Worker cannot take messages
 * synchronously, so it idles in its event loop rather than in Atomics.wait: the first message is
 * its init, every later one a job.
 */
function helperSource(jobSource: string, { READY }: ControlWords): string {
  return `
'use strict';
${jobSource}
let control;
self.onmessage = (event) => {
  if (control !== undefined) {
    runJob(event.data);
    return;
  }
  setUp(event.data.simd);
  control = new Int32Array(event.data.control);
  Atomics.store(control, ${READY}, 1);
};
`;
}

/** What this host offers for threads (read at each call: tests stub the globals). */
export function browserThreadEnvironment(globals: BrowserGlobals = host): ThreadEnvironment {
  return {
    cores: globals.navigator?.hardwareConcurrency ?? 1,
    crossOriginIsolated: globals.crossOriginIsolated === true,
    hasSharedArrayBuffer: typeof globals.SharedArrayBuffer === 'function',
    hasWorker:
      typeof globals.Worker === 'function' &&
      typeof globals.Blob === 'function' &&
      typeof globals.URL?.createObjectURL === 'function',
  };
}

// Whether this thread may block in Atomics.wait: a window's main thread may not (it throws).
let canBlock: boolean | undefined;

export const platform = {
  threadEnvironment: () => browserThreadEnvironment(),

  startHelper(jobSource: string, words: ControlWords, init: HelperInit, onError: () => void): HelperThread {
    let url: string | undefined;
    try {
      const blob = new host.Blob!([helperSource(jobSource, words)], { type: 'text/javascript' });
      url = host.URL.createObjectURL!(blob);
      const worker = new host.Worker!(url, { name: 'batchnorm-js-helper' });
      worker.onerror = onError;
      worker.onmessageerror = onError;
      worker.postMessage({ control: init.control.buffer, simd: init.simd });
      return {
        post: (job) => worker.postMessage(job),
        stop() {
          worker.terminate();
          host.URL.revokeObjectURL?.(url!);
        },
      };
    } catch {
      // A Content-Security-Policy without blob: in worker-src, for example: this helper never
      // becomes ready, and the calling thread does its share.
      if (url !== undefined) host.URL.revokeObjectURL?.(url);
      onError();
      return { post: () => undefined, stop: () => undefined };
    }
  },

  waitWhile(array: Int32Array, index: number, value: number, timeoutMs: number): void {
    if (canBlock !== false) {
      try {
        Atomics.wait(array, index, value, timeoutMs);
        canBlock = true;
        return;
      } catch {
        canBlock = false;
      }
    }
    // The helper is running its last chunk: spin until it is done.
    const end = performance.now() + timeoutMs;
    while (Atomics.load(array, index) === value && performance.now() < end) {
      // spin
    }
  },
} satisfies Platform;

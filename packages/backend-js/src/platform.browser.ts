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
 * The helper's script: the job source, then a message handler. The first message is the init;
 * the helper then sleeps in Atomics.wait (a Web Worker may block) and reads each job from shared
 * words. A job whose arrays come by message sends it back to its event loop until the message
 * arrives (messages of cancelled jobs are dropped there).
 */
function helperSource(jobSource: string, { SEQ, READY, STOP }: ControlWords): string {
  return `
'use strict';
${jobSource}
let started = false;
let seen = 0;
let wanted = -1;
function serve() {
  for (;;) {
    Atomics.wait(control, ${SEQ}, seen);
    if (Atomics.load(control, ${STOP}) === 1) {
      self.close();
      return;
    }
    seen = Atomics.load(control, ${SEQ});
    wanted = takeJob();
    if (wanted >= 0) return;
  }
}
self.onmessage = (event) => {
  if (!started) {
    started = true;
    setUp(event.data);
    Atomics.store(control, ${READY}, 1);
    serve();
  } else if (event.data.id === wanted) {
    wanted = -1;
    runMessageJob(event.data.args);
    serve();
  }
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

/** The message of an Error or an ErrorEvent (an ErrorEvent from a refused worker may carry none). */
function errorMessage(error: unknown, fallback: string): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : fallback;
}

// Whether this thread may block in Atomics.wait: a window's main thread may not (it throws).
let canBlock: boolean | undefined;

export const platform = {
  threadEnvironment: () => browserThreadEnvironment(),

  startHelper(
    jobSource: string,
    words: ControlWords,
    init: HelperInit,
    onError: (reason: string) => void,
  ): HelperThread {
    let url: string | undefined;
    try {
      const blob = new host.Blob!([helperSource(jobSource, words)], { type: 'text/javascript' });
      url = host.URL.createObjectURL!(blob);
      const worker = new host.Worker!(url, { name: 'batchnorm-js-helper' });
      worker.onerror = (event) => onError(errorMessage(event, 'the helper worker failed'));
      worker.onmessageerror = () => onError('the helper worker could not read its init');
      worker.postMessage({ control: init.control.buffer, words: init.words.buffer, slot: init.slot, simd: init.simd });
      return {
        post: (job) => worker.postMessage(job),
        stop() {
          worker.terminate();
          host.URL.revokeObjectURL?.(url!);
        },
      };
    } catch (error) {
      // A Content-Security-Policy without blob: in worker-src, for example: this helper never
      // becomes ready, and the calling thread does its share.
      if (url !== undefined) host.URL.revokeObjectURL?.(url);
      onError(errorMessage(error, 'the helper worker could not be created'));
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

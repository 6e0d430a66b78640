// The Node implementation of `#platform` (package.json `imports`, condition `node`): helpers are
// worker_threads that sleep in Atomics.wait and read each job from shared words; the rare job
// whose arrays are not in the WebAssembly memory takes them synchronously from a MessagePort.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ControlWords, HelperInit, Platform } from './platform.js';

/** The helper's script: the job source, then a loop that sleeps on SEQ and takes the posted job. */
function helperSource(jobSource: string, { SEQ, READY, STOP }: ControlWords): string {
  return `
'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
${jobSource}
setUp(workerData.init);
const port = workerData.port;
let seen = 0;
// A message taken from the port before its job was claimed.
let pending;
Atomics.store(control, ${READY}, 1);
for (;;) {
  Atomics.wait(control, ${SEQ}, seen);
  if (Atomics.load(control, ${STOP}) === 1) break;
  seen = Atomics.load(control, ${SEQ});
  const id = takeJob();
  // Drop the messages of cancelled jobs; run the claimed job's (posted before its state word
  // said POSTED, so it is on its way).
  for (;;) {
    if (pending === undefined) {
      const received = receiveMessageOnPort(port);
      if (received === undefined) {
        if (id < 0) break;
        continue;
      }
      pending = received.message;
    }
    if (staleMessage(pending.id)) {
      pending = undefined;
      continue;
    }
    if (pending.id === id) {
      const args = pending.args;
      pending = undefined;
      runMessageJob(args);
    }
    break;
  }
}
`;
}

export const platform = {
  threadEnvironment: () => ({
    cores: availableParallelism(),
    crossOriginIsolated: undefined,
    hasSharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    hasWorker: true,
  }),

  startHelper(jobSource: string, words: ControlWords, init: HelperInit, onError: (reason: string) => void) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(helperSource(jobSource, words), {
      eval: true,
      workerData: {
        init: { control: init.control.buffer, words: init.words.buffer, slot: init.slot, simd: init.simd },
        port: port2,
      },
      // The source is a CommonJS script: a host started with --input-type=module (node -e)
      // would otherwise pass that flag on and the worker would fail to start.
      execArgv: process.execArgv.filter((flag) => !flag.startsWith('--input-type')),
      transferList: [port2],
    });
    // Helpers never keep the process alive.
    worker.unref();
    port1.unref();
    worker.on('error', (error: Error) => onError(error.message));
    return {
      post: (message: object) => port1.postMessage(message),
      stop() {
        port1.close();
        void worker.terminate().catch(() => undefined);
      },
    };
  },

  waitWhile(array: Int32Array, index: number, value: number, timeoutMs: number): void {
    Atomics.wait(array, index, value, timeoutMs);
  },
} satisfies Platform;

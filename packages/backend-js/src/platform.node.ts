// The Node implementation of `#platform` (package.json `imports`, condition `node`): helpers are
// worker_threads that block in Atomics.wait and take jobs synchronously from a MessagePort.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ControlWords, HelperInit, Platform } from './platform.js';

/** The helper's script: the job source, then a loop that sleeps on SEQ and drains the port. */
function helperSource(jobSource: string, { SEQ, READY, STOP }: ControlWords): string {
  return `
'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
${jobSource}
setUp(workerData.simd);
const control = new Int32Array(workerData.control);
const port = workerData.port;
let seen = 0;
Atomics.store(control, ${READY}, 1);
for (;;) {
  Atomics.wait(control, ${SEQ}, seen);
  if (Atomics.load(control, ${STOP}) === 1) break;
  seen = Atomics.load(control, ${SEQ});
  let received;
  while ((received = receiveMessageOnPort(port)) !== undefined) runJob(received.message);
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

  startHelper(jobSource: string, words: ControlWords, init: HelperInit, onError: () => void) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(helperSource(jobSource, words), {
      eval: true,
      workerData: { control: init.control.buffer, port: port2, simd: init.simd },
      // The source is a CommonJS script: a host started with --input-type=module (node -e)
      // would otherwise pass that flag on and the worker would fail to start.
      execArgv: process.execArgv.filter((flag) => !flag.startsWith('--input-type')),
      transferList: [port2],
    });
    // Helpers never keep the process alive.
    worker.unref();
    port1.unref();
    worker.on('error', onError);
    return {
      post: (job: object) => port1.postMessage(job),
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

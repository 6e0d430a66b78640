// The worker thread of a `VariantWorker`: trains one variant on a backend of its own.
import { parentPort, workerData } from 'node:worker_threads';
import { openBackend } from './backends.js';
import type { VariantReply, VariantRequest, VariantThreadData } from './variantWorker.js';
import { VariantRun } from './variantRun.js';

const data = workerData as VariantThreadData;
const port = parentPort!;
const { backend } = await openBackend(data.backend.name, data.backend.options);
const run = new VariantRun(data.config, data.variant, backend, data.dataset, data.testImages);
if (data.saved !== undefined) run.restore(data.saved, data.overrides);
const stop = new AbortController();
const post = (reply: VariantReply) => port.postMessage(reply);

let lastStepPosted = Number.NEGATIVE_INFINITY;

/** Requests run one at a time, in order (a `stop` acts at once, between two steps). */
let queue: Promise<void> = Promise.resolve();

port.on('message', (request: VariantRequest) => {
  if (!('id' in request)) {
    if (request.op === 'stop') {
      stop.abort();
    } else {
      queue = queue.then(() => {
        run.dispose();
        backend.destroy();
        port.close();
      });
    }
    return;
  }
  const job = request;
  queue = queue.then(async () => {
    try {
      let result: unknown;
      if (job.op === 'trainTo') {
        await run.trainTo(job.target, stop.signal, (loss) => {
          // Progress is drawn at most 10 times a second: a message per step would cost more.
          const now = performance.now();
          if (now - lastStepPosted < 50) return;
          lastStepPosted = now;
          const { stepsDone, msPerStep, diverged } = run.record;
          post({ kind: 'step', loss, record: { stepsDone, msPerStep, diverged } });
        });
      } else if (job.op === 'evaluate') {
        result = await run.evaluate();
      } else if (job.op === 'checkpoint') {
        result = await run.checkpoint();
      } else {
        result = await run.trainedModel();
      }
      post({ kind: 'done', id: job.id, result, record: run.record });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      post({ kind: 'failed', id: job.id, message, ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}) });
    }
  });
});

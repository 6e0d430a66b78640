import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { BatchNormError } from '@batchnorm/core';
import { LOOPS, type LoopArgs, type LoopName } from './loops/index.js';
import { warmUp } from './loops/warmUp.js';

// Control words, one Int32Array per worker over a SharedArrayBuffer.
const SEQ = 0; // bumped by the main thread for each job
const DONE = 1; // the last job the worker finished
const READY = 2; // 1 once the worker waits for jobs
const STOP = 3; // 1 asks the worker to leave its loop
const FAILED = 4; // 1 when the last job threw
const CONTROL_WORDS = 5;

/** How long the main thread waits for a worker's share before giving up (a dead worker). */
const JOB_TIMEOUT_MS = 60_000;

function workerSource(): string {
  const loops = Object.values(LOOPS)
    .map((f) => f.toString())
    .join('\n');
  return `
'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
// Some transpilers wrap functions in __name(...) to keep their names.
const __name = (f) => f;
${loops}
const loops = { ${Object.keys(LOOPS).join(', ')} };
${warmUp.toString()}
warmUp(loops);
const control = new Int32Array(workerData.control);
const port = workerData.port;
let seen = 0;
Atomics.store(control, ${READY}, 1);
for (;;) {
  Atomics.wait(control, ${SEQ}, seen);
  if (Atomics.load(control, ${STOP}) === 1) break;
  const seq = Atomics.load(control, ${SEQ});
  if (seq === seen) continue;
  let received;
  // The job message is posted before SEQ is bumped; spin until the port has it.
  while ((received = receiveMessageOnPort(port)) === undefined) {}
  try {
    const job = received.message;
    loops[job.loop](...job.args);
    Atomics.store(control, ${FAILED}, 0);
  } catch (error) {
    Atomics.store(control, ${FAILED}, 1);
  }
  seen = seq;
  Atomics.store(control, ${DONE}, seq);
  Atomics.notify(control, ${DONE});
}
`;
}

interface Helper {
  readonly worker: Worker;
  readonly control: Int32Array;
  readonly port: MessagePort;
}

type SplitArgs<K extends LoopName> = (part: number, r0: number, r1: number) => LoopArgs<K>;

/** Calls a loop by name on the current thread. */
export function runLoop<K extends LoopName>(loop: K, args: LoopArgs<K>): void {
  (LOOPS[loop] as (...a: LoopArgs<K>) => void)(...args);
}

function isShared(value: unknown): boolean {
  return !ArrayBuffer.isView(value) || value.buffer instanceof SharedArrayBuffer;
}

/**
 * The main thread plus `size − 1` helper threads that run the loops of `loops/` on row ranges
 * of shared buffers. Jobs are handed over through `Atomics` (the main thread blocks until the
 * helpers finish its share), so kernels stay synchronous. Helpers are unref'ed: they never keep
 * the process alive.
 */
export class ThreadTeam {
  readonly size: number;
  #helpers: Helper[] = [];
  #started = false;

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  #start(): void {
    this.#started = true;
    const source = workerSource();
    for (let i = 1; i < this.size; i++) {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(source, {
        eval: true,
        workerData: { control: control.buffer, port: port2 },
        // The source is a CommonJS script: a host started with --input-type=module (node -e)
        // would otherwise pass that flag on and the worker would fail to start.
        execArgv: process.execArgv.filter((flag) => !flag.startsWith('--input-type')),
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      worker.on('error', () => {
        // A crashed helper is dropped; its share is done by the main thread from then on.
        Atomics.store(control, READY, 0);
      });
      this.#helpers.push({ worker, control, port: port1 });
    }
  }

  /** Helpers ready to take a job now (they start in the background on first use). */
  #readyHelpers(): Helper[] {
    if (!this.#started) this.#start();
    return this.#helpers.filter((h) => Atomics.load(h.control, READY) === 1);
  }

  /**
   * Runs `loop` over rows `[0, rows)` split in contiguous parts, one per ready thread; part 0
   * runs on the calling thread. `argsFor(part, r0, r1)` builds each part's arguments (parts that
   * accumulate must get their own scratch). Returns the number of parts used.
   */
  run<K extends LoopName>(loop: K, rows: number, argsFor: SplitArgs<K>): number {
    const helpers = this.size > 1 && rows > 1 ? this.#readyHelpers().slice(0, rows - 1) : [];
    const parts = helpers.length + 1;
    const bound = (p: number): number => Math.round((rows * p) / parts);
    const jobs = helpers.map((helper, i) => {
      const args = argsFor(i + 1, bound(i + 1), bound(i + 2));
      return { helper, args };
    });
    if (!jobs.every((job) => job.args.every(isShared))) {
      // Buffers not over SharedArrayBuffer cannot be shared: do every part here.
      for (let p = 0; p < parts; p++) runLoop(loop, argsFor(p, bound(p), bound(p + 1)));
      return parts;
    }
    const targets = jobs.map(({ helper, args }) => {
      helper.port.postMessage({ loop, args });
      const seq = Atomics.add(helper.control, SEQ, 1) + 1;
      Atomics.notify(helper.control, SEQ);
      return seq;
    });
    runLoop(loop, argsFor(0, bound(0), bound(1)));
    jobs.forEach(({ helper }, i) => {
      const target = targets[i]!;
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      for (;;) {
        const done = Atomics.load(helper.control, DONE);
        if (done === target) break;
        if (Date.now() > deadline) {
          throw new BatchNormError({
            code: 'BACKEND_UNAVAILABLE',
            argument: 'threads',
            expected: `a helper thread to finish ${loop} within ${JOB_TIMEOUT_MS} ms`,
            received: 'no answer',
            hint: 'Create the backend with { threads: 1 } to run on the main thread only.',
          });
        }
        Atomics.wait(helper.control, DONE, done, 1000);
      }
      if (Atomics.load(helper.control, FAILED) === 1) {
        throw new BatchNormError({
          code: 'BACKEND_UNAVAILABLE',
          argument: 'threads',
          expected: `the helper thread's share of ${loop} to succeed`,
          received: 'an exception in the helper thread',
        });
      }
    });
    return parts;
  }

  /** Whether at least one helper thread is up and taking jobs. */
  get helpersReady(): number {
    return this.#helpers.filter((h) => Atomics.load(h.control, READY) === 1).length;
  }

  /** Waits (without blocking the event loop) until every helper is ready; for tests and benchmarks. */
  async whenReady(timeoutMs = 10_000): Promise<void> {
    if (this.size > 1 && !this.#started) this.#start();
    const deadline = Date.now() + timeoutMs;
    while (this.helpersReady < this.#helpers.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  destroy(): void {
    for (const { worker, control, port } of this.#helpers) {
      Atomics.store(control, STOP, 1);
      Atomics.add(control, SEQ, 1);
      Atomics.notify(control, SEQ);
      port.close();
      void worker.terminate().catch(() => undefined);
    }
    this.#helpers = [];
    this.#started = false;
  }
}

import { BatchNormError } from '@batchnorm/core';
// worker_threads in Node, Web Workers elsewhere (package.json `imports`).
import { platform } from '#platform';
import type { HelperThread } from './platform.js';
import { LOOPS, type LoopArgs, type LoopName } from './loops/index.js';
import { warmUp } from './loops/warmUp.js';
import { pointerArgs, type SimdRuntime } from './wasm/simd.js';

// Control words of a helper, one Int32Array over a SharedArrayBuffer.
const SEQ = 0; // bumped by the main thread after posting jobs
const READY = 1; // 1 once the helper waits for jobs
const STOP = 2; // 1 asks the helper to leave its loop
const CONTROL_WORDS = 3;

// A job's own shared words: [next chunk, state of helper 1, state of helper 2, …].
const POSTED = 0; // the helper has not looked at the job yet
const TAKEN = 1; // the helper is working on chunks
const CANCELLED = 2; // the main thread finished every chunk first: the helper skips the job
const FINISHED = 3;
const FAILED = 4;

/** Chunks per thread: rows are handed out in chunks, so a thread the OS does not schedule does not hold the others up. */
const CHUNKS_PER_THREAD = 4;

/** Where each loop takes its row range `r0, r1` (r1 follows r0). */
const ROW_ARGUMENT: Readonly<Record<LoopName, number>> = {
  shiftedSums: 3,
  affine: 4,
  backwardSums: 4,
  backwardApply: 5,
  matMulPanels: 7,
  matMulDots: 5,
};

/** How long the main thread waits for a worker's share before giving up (a dead worker). */
const JOB_TIMEOUT_MS = 60_000;

/**
 * A helper's platform-neutral source: the loops, `setUp(simd)` and `runJob(job)`; the platform
 * (`#platform`) adds how the helper gets its init and its jobs. Functions go in as expressions
 * keyed by loop name, so a minifier's renaming of their declarations does not matter.
 */
function jobSource(): string {
  const loops = Object.entries(LOOPS)
    .map(([name, f]) => `  ${name}: (${f.toString()}),`)
    .join('\n');
  return `
// Some transpilers wrap functions in __name(...) to keep their names.
const __name = (f) => f;
const loops = {
${loops}
};
(${warmUp.toString()})(loops);
// The SIMD loops, instantiated over the main thread's WebAssembly memory (the same bytes).
const simdLoops = {};
function setUp(simd) {
  if (simd !== undefined) {
    const { memory, modules } = simd;
    for (const name of Object.keys(modules)) {
      simdLoops[name] = new WebAssembly.Instance(modules[name], { env: { memory } }).exports[name];
    }
  }
}
function runJob(job) {
  const words = job.words;
  // Skip a job the main thread already finished (it cancels what nobody has taken).
  if (Atomics.compareExchange(words, job.slot, ${POSTED}, ${TAKEN}) !== ${POSTED}) return;
  let state = ${FINISHED};
  try {
    // A SIMD job's arrays arrive as byte offsets into the shared memory.
    const run = job.simd ? simdLoops[job.loop] : loops[job.loop];
    const args = job.args;
    for (;;) {
      const k = Atomics.add(words, 0, 1);
      if (k >= job.chunks) break;
      args[job.rowArgument] = Math.round((job.rows * k) / job.chunks);
      args[job.rowArgument + 1] = Math.round((job.rows * (k + 1)) / job.chunks);
      run(...args);
    }
  } catch (error) {
    state = ${FAILED};
  }
  Atomics.store(words, job.slot, state);
  Atomics.notify(words, job.slot);
}
`;
}

interface Helper {
  readonly thread: HelperThread;
  readonly control: Int32Array;
}

type SplitArgs<K extends LoopName> = (part: number, r0: number, r1: number) => LoopArgs<K>;

/**
 * Calls a loop by name on the current thread: its SIMD twin when `simd` is given (the caller
 * checked that every array lies in the runtime's heap), else the JavaScript loop.
 */
export function runLoop<K extends LoopName>(loop: K, args: LoopArgs<K>, simd?: SimdRuntime): void {
  if (simd !== undefined) simd.loops[loop as keyof SimdRuntime['loops']]!(...pointerArgs(args));
  else (LOOPS[loop] as (...a: LoopArgs<K>) => void)(...args);
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
  readonly #simd: SimdRuntime | undefined;
  #helpers: Helper[] = [];
  #started = false;
  #helperChunks = 0;
  #failedHelpers = 0;

  /** @param simd the SIMD runtime whose loops the helpers may also run (over its shared memory). */
  constructor(size: number, simd?: SimdRuntime) {
    this.size = Math.max(1, Math.floor(size));
    this.#simd = simd;
  }

  #start(): void {
    this.#started = true;
    const source = jobSource();
    for (let i = 1; i < this.size; i++) {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
      const simd = this.#simd && { memory: this.#simd.memory, modules: this.#simd.modules };
      const thread = platform.startHelper(source, { SEQ, READY, STOP }, { control, simd }, () => {
        // A crashed helper is dropped; its share is done by the main thread from then on.
        Atomics.store(control, READY, 0);
        // whenReady stops waiting for it (a page whose CSP refuses blob: workers, for example).
        this.#failedHelpers++;
      });
      this.#helpers.push({ thread, control });
    }
  }

  /** Helpers ready to take a job now (they start in the background on first use). */
  #readyHelpers(): Helper[] {
    if (!this.#started) this.#start();
    return this.#helpers.filter((h) => Atomics.load(h.control, READY) === 1);
  }

  /**
   * Runs `loop` over rows `[0, rows)`, handed out in chunks to the calling thread and the ready
   * helpers (part 0 is the calling thread). `argsFor(part, r0, r1)` builds a part's arguments;
   * parts that accumulate must get their own scratch (a part runs several chunks into it).
   * Returns the number of parts. If a helper has not started by the time the calling thread ran
   * out of chunks, its job is cancelled rather than waited for. With `simd`, every part runs the
   * SIMD loop (the caller checked that every array lies in the runtime's heap).
   */
  run<K extends LoopName>(loop: K, rows: number, argsFor: SplitArgs<K>, simd?: SimdRuntime): number {
    const helpers = this.size > 1 && rows > 1 ? this.#readyHelpers().slice(0, rows - 1) : [];
    const useSimd = simd !== undefined && simd === this.#simd;
    const jobs = helpers.map((helper, h) => {
      const args: unknown[] = argsFor(h + 1, 0, rows);
      return { helper, args: useSimd ? pointerArgs(args) : args };
    });
    if (jobs.length === 0 || !jobs.every((job) => job.args.every(isShared))) {
      // One thread, or buffers not over SharedArrayBuffer: run it all here.
      runLoop(loop, argsFor(0, 0, rows), simd);
      return 1;
    }
    const parts = jobs.length + 1;
    const chunks = Math.min(rows, parts * CHUNKS_PER_THREAD);
    const rowArgument = ROW_ARGUMENT[loop];
    const words = new Int32Array(new SharedArrayBuffer(4 * parts));
    jobs.forEach(({ helper, args }, h) => {
      helper.thread.post({ loop, args, simd: useSimd, words, slot: h + 1, rows, chunks, rowArgument });
      Atomics.add(helper.control, SEQ, 1);
      Atomics.notify(helper.control, SEQ);
    });
    const mine: unknown[] = argsFor(0, 0, rows);
    let mineDone = 0;
    for (;;) {
      const k = Atomics.add(words, 0, 1);
      if (k >= chunks) break;
      mineDone++;
      mine[rowArgument] = Math.round((rows * k) / chunks);
      mine[rowArgument + 1] = Math.round((rows * (k + 1)) / chunks);
      runLoop(loop, mine as LoopArgs<K>, simd);
    }
    for (let slot = 1; slot < parts; slot++) {
      if (Atomics.compareExchange(words, slot, POSTED, CANCELLED) === POSTED) continue;
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      while (Atomics.load(words, slot) === TAKEN) {
        if (Date.now() > deadline) {
          throw new BatchNormError({
            code: 'BACKEND_UNAVAILABLE',
            argument: 'threads',
            expected: `a helper thread to finish ${loop} within ${JOB_TIMEOUT_MS} ms`,
            received: 'no answer',
            hint: 'Create the backend with { threads: 1 } to run on the main thread only.',
          });
        }
        // Atomics.wait, or a spin where the calling thread may not block (a page's main thread).
        platform.waitWhile(words, slot, TAKEN, 1000);
      }
      if (Atomics.load(words, slot) === FAILED) {
        throw new BatchNormError({
          code: 'BACKEND_UNAVAILABLE',
          argument: 'threads',
          expected: `the helper thread's share of ${loop} to succeed`,
          received: 'an exception in the helper thread',
        });
      }
    }
    this.#helperChunks += chunks - mineDone;
    return parts;
  }

  /** Chunks the helper threads have run so far (the rest ran on the calling thread). */
  get helperChunks(): number {
    return this.#helperChunks;
  }

  /** Whether at least one helper thread is up and taking jobs. */
  get helpersReady(): number {
    return this.#helpers.filter((h) => Atomics.load(h.control, READY) === 1).length;
  }

  /** Waits (without blocking the event loop) until every helper is ready; for tests and benchmarks. */
  async whenReady(timeoutMs = 10_000): Promise<void> {
    if (this.size > 1 && !this.#started) this.#start();
    const deadline = Date.now() + timeoutMs;
    while (this.helpersReady < this.#helpers.length - this.#failedHelpers && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  destroy(): void {
    for (const { thread, control } of this.#helpers) {
      Atomics.store(control, STOP, 1);
      Atomics.add(control, SEQ, 1);
      Atomics.notify(control, SEQ);
      thread.stop();
    }
    this.#helpers = [];
    this.#failedHelpers = 0;
    this.#started = false;
  }
}

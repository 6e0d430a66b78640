import { BatchNormError } from '@batchnorm/core';
// worker_threads in Node, Web Workers elsewhere (package.json `imports`).
import { platform } from '#platform';
import type { HelperThread } from './platform.js';
import { LOOPS, ROW_ARGUMENT, type LoopArgs, type LoopName } from './loops/index.js';
import {
  ALIGN,
  ARG_COUNT,
  ARGS_BYTE_OFFSET,
  CANCELLED,
  CHUNKS,
  chunkEdge,
  CONTROL_BYTES,
  FAILED,
  FINISHED,
  JOB_ID,
  jobSource,
  KIND,
  LOOP,
  LOOP_NAMES,
  MAX_ARGS,
  MESSAGE_JOB,
  POSTED,
  READY,
  ROW_ARGUMENT_WORD,
  ROWS,
  SEQ,
  SIMD_JOB,
  STOP,
  TAKEN,
} from './threadJob.js';
import { pointerArgs, type SimdRuntime } from './wasm/simd.js';

export { chunkEdge } from './threadJob.js';

/** Chunks per thread: rows are handed out in chunks, so a thread the OS does not schedule does not hold the others up. */
const CHUNKS_PER_THREAD = 4;

/** Chunk edges fall on multiples of this many rows: the matMul panels sweep four output rows at a time. */
const ROW_ALIGN: Readonly<Record<LoopName, number>> = {
  shiftedSums: 1,
  affine: 1,
  backwardSums: 1,
  backwardApply: 1,
  matMulPanels: 4,
  matMulDots: 1,
  sigmoid: 1,
  sgdUpdate: 1,
};

/** How long the main thread waits for a worker's share before giving up (a dead worker). */
const JOB_TIMEOUT_MS = 60_000;

interface Helper {
  readonly thread: HelperThread;
  readonly control: Int32Array;
  readonly args: Float64Array;
  /** Its state word in the team's job words. */
  readonly slot: number;
}

/** Why fewer threads than asked for work: helpers that failed to start or died. */
export interface TeamFailure {
  /** Threads still working, the calling thread included. */
  readonly threads: number;
  readonly reason: string;
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
  readonly #onFailure: ((failure: TeamFailure) => void) | undefined;
  #helpers: Helper[] = [];
  #words: Int32Array = new Int32Array(0);
  #started = false;
  #helperChunks = 0;
  #failedHelpers = 0;
  #jobId = 0;

  /**
   * @param simd the SIMD runtime whose loops the helpers may also run (over its shared memory).
   * @param onFailure called when a helper fails to start or dies, with the threads left and why.
   */
  constructor(size: number, simd?: SimdRuntime, onFailure?: (failure: TeamFailure) => void) {
    this.size = Math.max(1, Math.floor(size));
    this.#simd = simd;
    this.#onFailure = onFailure;
  }

  #start(): void {
    this.#started = true;
    const source = jobSource();
    // Every state word starts FINISHED: no helper claims anything before its first job.
    this.#words = new Int32Array(new SharedArrayBuffer(4 * this.size)).fill(FINISHED);
    const words = this.#words;
    for (let slot = 1; slot < this.size; slot++) {
      const buffer = new SharedArrayBuffer(CONTROL_BYTES);
      const control = new Int32Array(buffer, 0, ARGS_BYTE_OFFSET / 4);
      const args = new Float64Array(buffer, ARGS_BYTE_OFFSET, MAX_ARGS);
      const simd = this.#simd && { memory: this.#simd.memory, modules: this.#simd.modules };
      const init = { control, words, slot, simd };
      let failed = false;
      const thread = platform.startHelper(source, { SEQ, READY, STOP }, init, (reason) => {
        // A crashed helper is dropped; its share is done by the main thread from then on.
        Atomics.store(control, READY, 0);
        if (failed) return;
        failed = true;
        // whenReady stops waiting for it (a page whose CSP refuses blob: workers, for example).
        this.#failedHelpers++;
        this.#onFailure?.({
          threads: this.size - this.#failedHelpers,
          reason: `${this.#failedHelpers} of ${this.size - 1} helper threads failed: ${reason}`,
        });
      });
      this.#helpers.push({ thread, control, args, slot });
    }
  }

  /** Helpers ready to take a job now, at most `max` (they start in the background on first use). */
  #readyHelpers(max: number): Helper[] {
    if (!this.#started) this.#start();
    const ready: Helper[] = [];
    for (const h of this.#helpers) {
      if (ready.length < max && Atomics.load(h.control, READY) === 1) ready.push(h);
    }
    return ready;
  }

  /**
   * Runs `loop` over rows `[0, rows)`, handed out in chunks to the calling thread and the ready
   * helpers (part 0 is the calling thread). `argsFor(part, r0, r1)` builds a part's arguments;
   * parts that accumulate must get their own scratch (a part runs several chunks into it).
   * Returns the number of parts. If a helper has not started by the time the calling thread ran
   * out of chunks, its job is cancelled rather than waited for. With `simd`, every part runs the
   * SIMD loop (the caller checked that every array lies in the runtime's heap).
   *
   * A SIMD job is all numbers: it is written into the helper's shared words and the helper woken
   * with Atomics.notify, with no message. A JavaScript job's arrays go by message.
   */
  run<K extends LoopName>(loop: K, rows: number, argsFor: SplitArgs<K>, simd?: SimdRuntime): number {
    const align = ROW_ALIGN[loop];
    const units = Math.ceil(rows / align);
    const helpers = this.size > 1 && units > 1 ? this.#readyHelpers(units - 1) : [];
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
    const chunks = Math.min(units, parts * CHUNKS_PER_THREAD);
    const rowArgument = ROW_ARGUMENT[loop];
    const words = this.#words;
    const id = ++this.#jobId;
    // The previous job is over (finished or cancelled on every slot): its counter may restart.
    Atomics.store(words, 0, 0);
    for (const { helper, args } of jobs) {
      const { control } = helper;
      control[LOOP] = LOOP_NAMES.indexOf(loop);
      control[ROWS] = rows;
      control[CHUNKS] = chunks;
      control[ROW_ARGUMENT_WORD] = rowArgument;
      control[ALIGN] = align;
      control[ARG_COUNT] = args.length;
      Atomics.store(control, JOB_ID, id);
      if (useSimd) {
        control[KIND] = SIMD_JOB;
        helper.args.set(args as number[]);
      } else {
        control[KIND] = MESSAGE_JOB;
        helper.thread.post({ id, args });
      }
      // Publishes the words above: the helper reads them only after claiming this state.
      Atomics.store(words, helper.slot, POSTED);
      Atomics.add(control, SEQ, 1);
      Atomics.notify(control, SEQ);
    }
    const mine: unknown[] = argsFor(0, 0, rows);
    let mineDone = 0;
    for (;;) {
      const k = Atomics.add(words, 0, 1);
      if (k >= chunks) break;
      mineDone++;
      mine[rowArgument] = chunkEdge(rows, chunks, align, k);
      mine[rowArgument + 1] = chunkEdge(rows, chunks, align, k + 1);
      runLoop(loop, mine as LoopArgs<K>, simd);
    }
    // Every helper's share is over before this returns (or throws): the next job reuses the words.
    let failed = false;
    for (const { helper } of jobs) {
      const slot = helper.slot;
      if (Atomics.compareExchange(words, slot, POSTED, CANCELLED) === POSTED) continue;
      const deadline = Date.now() + JOB_TIMEOUT_MS;
      while (Atomics.load(words, slot) === TAKEN) {
        if (Date.now() > deadline) {
          // A helper that answers after this must not touch a later job: new helpers, new words.
          this.destroy();
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
      if (Atomics.load(words, slot) === FAILED) failed = true;
    }
    if (failed) {
      throw new BatchNormError({
        code: 'BACKEND_UNAVAILABLE',
        argument: 'threads',
        expected: `the helper thread's share of ${loop} to succeed`,
        received: 'an exception in the helper thread',
      });
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
    this.#words = new Int32Array(0);
    this.#failedHelpers = 0;
    this.#started = false;
  }
}

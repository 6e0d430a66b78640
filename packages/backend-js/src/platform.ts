// What the backend needs from its host, implemented twice: `platform.node.ts` (worker_threads)
// and `platform.browser.ts` (Web Workers). The package.json `imports` field picks one for
// `#platform` by the `node` condition, so a browser bundle never sees a `node:` import.
import type { WasmMemory, WasmModule } from './wasm/api.js';

/** What decides how many threads a backend may use. */
export interface ThreadEnvironment {
  /** Hardware threads the host reports (for the default thread count). */
  readonly cores: number;
  /** A browser's `crossOriginIsolated`; `undefined` where no isolation is needed (Node). */
  readonly crossOriginIsolated: boolean | undefined;
  readonly hasSharedArrayBuffer: boolean;
  /** Whether the host can start a worker (Web Worker or worker_threads). */
  readonly hasWorker: boolean;
}

/** How many threads a backend uses, and why fewer than asked when the host allows no helpers. */
export interface ThreadPlan {
  readonly threads: number;
  /** Set when helpers are impossible here and `threads` was lowered to 1 (or the default is 1 for that reason). */
  readonly reason?: string;
}

/** Default thread count where helpers are possible: both cores of a two-core machine, else one. */
export function defaultThreads(cores: number): number {
  return cores >= 2 ? 2 : 1;
}

/**
 * The thread count for `requested` (already validated: an integer ≥ 1, or `undefined` for the
 * default) in `environment`. Where helpers are impossible (a page that is not cross-origin
 * isolated has no SharedArrayBuffer; some hosts have no workers) it is 1 with the reason, even
 * when more were asked for: the same code then runs everywhere, and `details` says what ran.
 */
export function planThreads(requested: number | undefined, environment: ThreadEnvironment): ThreadPlan {
  const wanted = requested ?? defaultThreads(environment.cores);
  if (wanted === 1) return { threads: 1 };
  const reason =
    environment.crossOriginIsolated === false
      ? 'the page is not cross-origin isolated (no SharedArrayBuffer): serve it with ' +
        'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp'
      : !environment.hasSharedArrayBuffer
        ? 'this engine has no SharedArrayBuffer'
        : !environment.hasWorker
          ? 'this environment cannot start workers'
          : undefined;
  return reason === undefined ? { threads: wanted } : { threads: 1, reason };
}

/** Indices of a helper's control words (one Int32Array over a SharedArrayBuffer). */
export interface ControlWords {
  /** Bumped by the main thread after posting a job. */
  readonly SEQ: number;
  /** 1 once the helper takes jobs; 0 again if it crashed. */
  readonly READY: number;
  /** 1 asks the helper to leave its loop. */
  readonly STOP: number;
}

/** What a helper starts with. */
export interface HelperInit {
  /** The helper's control words, then its job's description and numeric arguments (same buffer). */
  readonly control: Int32Array;
  /** The team's job words: `[next chunk, state of helper 1, state of helper 2, …]`. */
  readonly words: Int32Array;
  /** This helper's index into `words`. */
  readonly slot: number;
  /** The SIMD runtime's shared memory and compiled modules, for the helper to instantiate. */
  readonly simd: { readonly memory: WasmMemory; readonly modules: Readonly<Record<string, WasmModule>> } | undefined;
}

/** A started helper thread, as the thread team drives it. */
export interface HelperThread {
  /** Posts the arrays of a job whose arguments are not all numbers (the team then bumps `SEQ`). */
  post(message: { readonly id: number; readonly args: readonly unknown[] }): void;
  /** Ends the thread (the team has set `STOP` first). */
  stop(): void;
}

/** What `#platform` exports, in both its implementations. */
export interface Platform {
  threadEnvironment(): ThreadEnvironment;
  /**
   * Starts a helper running `jobSource`: a self-contained script that defines `control`,
   * `setUp(init)`, `takeJob()` (claims and runs a posted job; returns the id of a job whose
   * arrays come by message, else -1), `runMessageJob(args)` and `staleMessage(id)`. The platform
   * adds the idle loop (Atomics.wait on `SEQ`) and how messages arrive. `onError(reason)` runs if
   * the thread fails to start or dies.
   */
  startHelper(
    jobSource: string,
    words: ControlWords,
    init: HelperInit,
    onError: (reason: string) => void,
  ): HelperThread;
  /** Blocks while `array[index] === value`, at most `timeoutMs` (spins where the thread may not block). */
  waitWhile(array: Int32Array, index: number, value: number, timeoutMs: number): void;
}

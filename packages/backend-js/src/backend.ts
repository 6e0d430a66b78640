import {
  assertTensorData,
  BatchNormError,
  bindKernels,
  checkedOptions,
  describeValue,
  HandleRegistry,
  SPECIFICATION_VERSION,
  type Backend,
  type BackendModule,
  type SyncBackend,
  type Layout,
  type TensorData,
} from '@batchnorm/core';
// The host's thread support: Node's worker_threads or a browser's Web Workers (package.json `imports`).
import { platform } from '#platform';
import { KernelContext } from './context.js';
import { addBias } from './kernels/addBias.js';
import { batchNormBackward } from './kernels/batchNormBackward.js';
import { batchNormForwardInference } from './kernels/batchNormForwardInference.js';
import { batchNormForwardTraining } from './kernels/batchNormForwardTraining.js';
import { matMul } from './kernels/matMul.js';
import { relu } from './kernels/relu.js';
import { reluBackward } from './kernels/reluBackward.js';
import { runningAverage } from './kernels/runningAverage.js';
import { sgdUpdate } from './kernels/sgdUpdate.js';
import { sigmoid } from './kernels/sigmoid.js';
import { sigmoidBackward } from './kernels/sigmoidBackward.js';
import { softmaxCrossEntropy } from './kernels/softmaxCrossEntropy.js';
import { sumRows } from './kernels/sumRows.js';
import { planThreads } from './platform.js';
import { BufferPool } from './pool.js';
import { assertJsSaved, JsSaved } from './saved.js';
import type { JsTensor } from './tensor.js';
import { ThreadTeam } from './threads.js';
import { LOOPS } from './loops/index.js';
import { warmUp } from './loops/warmUp.js';
import { simdRuntime, simdUnavailableReason } from './wasm/simd.js';

/** Options of `createBackend`; every key is optional, and any other key is refused. */
export interface JsBackendOptions {
  /**
   * Threads working on one large tensor, the calling thread included (`1`: main thread only).
   * Default: 2 when the machine has at least 2 cores, else 1. Helpers are worker threads over
   * SharedArrayBuffer (in Node worker_threads, unref'ed; in a browser Web Workers), started on
   * first use and stopped by `destroy()`. A browser page that is not cross-origin isolated has
   * no SharedArrayBuffer: there the backend runs on one thread whatever is asked, and
   * `details.threadsReason` says why.
   */
  readonly threads?: number;
  /** Batch-norm tensors with at least this many elements are split across threads. Default 2¹⁸. */
  readonly parallelMinElements?: number;
  /** Bytes of disposed buffers kept for reuse. Default 1 GiB. */
  readonly poolBytes?: number;
  /**
   * Run the batch-norm loops as WebAssembly SIMD over tensors kept in a shared WebAssembly memory
   * (up to 4 GiB for the process; beyond it tensors fall back to ordinary buffers and the
   * JavaScript loops). Default `true` where the engine has SIMD and shared memory, which
   * `details.simd` reports. Results are the same either way: both compute in float64.
   */
  readonly simd?: boolean;
}

const DEFAULT_PARALLEL_MIN_ELEMENTS = 1 << 18;
const OPTION_KEYS: readonly (keyof JsBackendOptions)[] = ['threads', 'parallelMinElements', 'poolBytes', 'simd'];
const DEFAULT_POOL_BYTES = 1 << 30;

function readOption<F extends number | undefined>(
  options: Readonly<Record<string, unknown>>,
  key: string,
  fallback: F,
  min: number,
): number | F {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: `options.${key}`,
      expected: `an integer ≥ ${min}`,
      received: describeValue(value),
    });
  }
  return value;
}

/**
 * A dozen small calls of each batch-norm kernel in both memory orders, so V8 has seen every path
 * of the kernels (not only their hot loops) before optimizing them; otherwise the first large
 * call optimizes a half-seen function that deoptimizes on later calls. The kernels branch on the
 * order alone (never on the rank), so one channels-first layout, one channels-last layout and
 * `NC` (channels first with one value per row) reach every path of every layout.
 */
function warmUpKernels(backend: Backend<JsTensor, JsSaved>): void {
  const layouts: readonly { layout: Layout; shape: readonly number[] }[] = [
    { layout: 'NC', shape: [5, 3] },
    { layout: 'NCHW', shape: [2, 3, 2, 2] },
    { layout: 'NHWC', shape: [2, 2, 2, 3] },
  ];
  for (let round = 0; round < 12; round++) {
    for (const { layout, shape } of layouts) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(size).map((_, i) => (i * 7) % 5);
      const x = backend.upload(values, shape);
      const gamma = backend.upload(Float32Array.of(1, 2, 3), [3]);
      const beta = backend.upload(Float64Array.of(0, 1, 2), [3]);
      const attrs = { layout, epsilon: 1e-5 };
      const { y, mean, variance, saved } = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
      const inference = backend.batchNormForwardInference({ x, gamma, beta, mean, variance }, attrs);
      const grads = backend.batchNormBackward({ dy: y, x, gamma, saved }, attrs);
      backend.disposeSaved(saved);
      for (const t of [x, gamma, beta, y, mean, variance, inference, grads.dx, grads.dgamma, grads.dbeta]) {
        backend.dispose(t);
      }
    }
  }
}

let warmedUp = false;
function warmUpOnce(): void {
  if (!warmedUp) warmUp(LOOPS);
  warmedUp = true;
}

/** What `details` of a js backend reports. */
export type JsBackendDetails = {
  readonly precision: 'float32';
  /** Threads working on one large tensor, the calling thread included. */
  readonly threads: number;
  /**
   * Why `threads` is fewer than asked for (or than the default): the host allows no helper
   * threads, or helpers failed to start (a Content-Security-Policy refusing blob: workers, for
   * example; known once they tried, so `whenThreadsReady()` first).
   */
  readonly threadsReason?: string;
  /** `'wasm-simd128'`, `'off'` (asked for), or `'off (reason)'` where the engine lacks SIMD or shared memory. */
  readonly simd: string;
};

/**
 * The js backend, as `createBackend` returns it: the `Backend` contract over `JsTensor` handles,
 * with the synchronous reads (`readSync`, `readInto`), so a `BatchNorm` layer over it has
 * `stateSync()` and `foldSync()`, and the float64 reads (`readFloat64`, `readFloat64Sync`), so its
 * `state()` holds the running statistics as computed; plus statistics of its pool and threads.
 * `details` is `{ precision: 'float32', threads, simd }`, and `threadsReason` when the host
 * allows no helper threads (a browser page that is not cross-origin isolated).
 */
export interface JsBackend extends SyncBackend<JsTensor, JsSaved> {
  readonly dtype: 'float32';
  readonly details: JsBackendDetails;
  /** A `Float32Array` copy, taken inside the call (so `t` may be disposed right after). */
  read(t: JsTensor): Promise<Float32Array>;
  readSync(t: JsTensor): Float32Array;
  /** Copies `t` into `out` (same length, checked by core's `readInto`). */
  readInto(t: JsTensor, out: TensorData): void;
  /**
   * A `Float64Array` copy of the float64 values `t` keeps (the running statistics, batch
   * statistics, a 1-D `Float64Array` upload), else of its float32 values widened.
   */
  readFloat64(t: JsTensor): Promise<Float64Array>;
  readFloat64Sync(t: JsTensor): Float64Array;
  /** Pool statistics, for tests and tuning. */
  poolStats(): { buffers: number; bytes: number };
  /** Resolves once the helper threads are up (they otherwise start on first large tensor). */
  whenThreadsReady(): Promise<void>;
  /** Helper threads up and taking jobs. */
  readyHelpers(): number;
  /** Row chunks run by helper threads so far (the rest ran on the calling thread). */
  helperChunks(): number;
}

/**
 * Creates the js backend: float32 tensors on the host, the batch-norm and matMul hot loops in
 * WebAssembly SIMD (with TypeScript twins where SIMD or shared memory is missing, or with
 * `{ simd: false }`), outputs from a pool of recycled buffers, large tensors split across helper
 * threads (worker_threads in Node; Web Workers in a cross-origin isolated page, else one thread).
 *
 * @throws BatchNormError `INVALID_ARGUMENT` naming the option: a bad value, or a key it does not know.
 */
export function createBackend(options: JsBackendOptions = {}): JsBackend {
  const record = checkedOptions(options, OPTION_KEYS, '{ threads: 2 }');
  const plan = planThreads(readOption(record, 'threads', undefined, 1), platform.threadEnvironment());
  const threads = plan.threads;
  const parallelMinElements = readOption(record, 'parallelMinElements', DEFAULT_PARALLEL_MIN_ELEMENTS, 1);
  const poolBytes = readOption(record, 'poolBytes', DEFAULT_POOL_BYTES, 0);
  const wantSimd = record['simd'] ?? true;
  if (typeof wantSimd !== 'boolean') {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'options.simd',
      expected: 'a boolean',
      received: describeValue(wantSimd),
    });
  }
  warmUpOnce();
  const simd = wantSimd ? simdRuntime() : undefined;
  const pool = new BufferPool(threads > 1, poolBytes, simd?.heap);
  const simdDetail = simd !== undefined ? 'wasm-simd128' : wantSimd ? `off (${simdUnavailableReason()})` : 'off';
  // What details report: the plan, then the truth once helpers fail to start (a page's CSP
  // refusing blob: workers, for example) or die.
  const details: { -readonly [K in keyof JsBackendDetails]: JsBackendDetails[K] } = {
    precision: 'float32',
    threads,
    ...(plan.reason === undefined ? {} : { threadsReason: plan.reason }),
    simd: simdDetail,
  };
  const team = new ThreadTeam(threads, simd, (failure) => {
    details.threads = failure.threads;
    details.threadsReason = failure.reason;
  });
  const ctx = new KernelContext(pool, team, parallelMinElements, simd);

  // This instance's tensors and saved values: every method refuses others in O(1) (item 8 of
  // issue 13: a foreign dy reached the SIMD loops as WebAssembly memory at offset 0).
  const handles = new HandleRegistry<JsTensor, JsSaved>('js');
  const backend = handles.guard({
    name: 'js',
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float32',
    details: details as JsBackendDetails,
    // the loops run in the call, helper threads joined before it returns
    completion: 'on-return',
    upload(data, shape) {
      assertTensorData(data, shape);
      const buffer = pool.take(data.length);
      buffer.set(data);
      // A per-feature vector given in float64 keeps those digits for the kernels.
      const float64Copy = data instanceof Float64Array && shape.length === 1 ? Float64Array.from(data) : undefined;
      return ctx.tensor(buffer, shape, float64Copy);
    },
    // An async function runs up to its first await inside the call: the copy is taken then, so
    // the caller may dispose `t` (or sgdUpdate it in place) as soon as read returns. A disposed
    // `t` rejects the promise.
    read: async (t) => t.data.slice(),
    // A capability v2 leaves optional; declared here, so the backend's type has it (SyncBackend).
    readSync: (t) => t.data.slice(),
    // core's readInto checked the length; set() into memory the caller already touched is a memcpy.
    readInto: (t, out) => out.set(t.data),
    // copied in the call, as read is; so BatchNorm's state() holds the running statistics' float64
    readFloat64: async (t) => t.float64Values(),
    readFloat64Sync: (t) => t.float64Values(),
    dispose: (t) => ctx.dispose(t),
    // Plain float64 arrays, no pooled buffer: releasing marks it so backward refuses it.
    disposeSaved: (saved) => JsSaved.release(assertJsSaved(saved)),
    destroy() {
      team.destroy();
      ctx.destroy();
      pool.clear();
    },
    ...bindKernels(ctx, {
      batchNormForwardTraining,
      batchNormForwardInference,
      batchNormBackward,
      runningAverage,
      matMul,
      addBias,
      sumRows,
      sigmoid,
      sigmoidBackward,
      relu,
      reluBackward,
      softmaxCrossEntropy,
      sgdUpdate,
    }, {
      // scratch vectors live for one kernel call: each call may reuse the previous one's
      around: (_kernel, run) => {
        ctx.beginKernel();
        return run();
      },
    }),
  } satisfies Omit<SyncBackend<JsTensor, JsSaved>, 'isTensor'>) satisfies SyncBackend<JsTensor, JsSaved>;

  warmUpKernels(backend);
  pool.clear();

  return Object.assign(backend, {
    poolStats: () => ({ buffers: pool.pooledBuffers, bytes: pool.pooledBytes }),
    whenThreadsReady: () => team.whenReady(),
    readyHelpers: () => team.helpersReady,
    helperChunks: () => team.helperChunks,
  });
}

/** This package's manifest: what the registry, conformance, the MNIST app and the bench load. */
export const backendModule = {
  name: 'js',
  packageName: '@batchnorm/backend-js',
  description: 'float32 on the host: WebAssembly SIMD loops with TypeScript twins, pooled buffers, worker threads',
  createBackend,
  traits: { residence: 'host', tolerance: 'float32', requires: [], environments: ['node', 'browser'] },
} as const satisfies BackendModule<JsBackend>;

import { assertTensorData, bindKernels, checkedOptions, HandleRegistry, SPECIFICATION_VERSION, type SyncBackend } from '@batchnorm/core';
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
import gpuJsPackage from 'gpu.js/package.json' with { type: 'json' };
import { resolveMode, type GpuJsMode, type GpuJsModeOption } from './modes.js';

import { disposeSaved, type GpujsSaved } from './saved.js';
import type { GpuTensor } from './tensor.js';

/** What `createBackend` accepts; any other key is refused (a type error, and a typed error at run time). */
export interface GpuJsBackendOptions {
  /** gpu.js mode, one of `GPU_JS_MODES`; `auto` (default) picks WebGL2/WebGL in a browser, headless-gl in Node, else cpu. */
  readonly mode?: GpuJsModeOption;
}

/** Every key of `GpuJsBackendOptions`: the type makes this list complete. */
const OPTION_KEYS = Object.keys({ mode: true } satisfies Record<keyof GpuJsBackendOptions, true>);

/**
 * The gpu.js backend: the `Backend` contract plus what it runs on and what it read back. It
 * declares `readSync` (WebGL and headless-gl read pixels synchronously), so a layer's
 * `stateSync()`/`foldSync()` compile against it.
 */
export interface GpuJsBackend extends SyncBackend<GpuTensor, GpujsSaved> {
  /** The gpu.js mode that runs the kernels. */
  readonly mode: GpuJsMode;
  /** Device→host transfers so far (`read`/`readSync`); kernels never read back. */
  readonly readbacks: number;
  /** `readPixels` calls on the GL context so far (GL modes; 0 in cpu mode). */
  readonly pixelReads: number;
  /** Compiled kernels held (one per operation and shape). */
  readonly compiledKernels: number;
}

/**
 * Creates the gpu.js backend.
 *
 * @throws BatchNormError `BACKEND_UNAVAILABLE` when the requested GPU mode cannot start, saying
 * why (no `gl` binding, no X display, no WebGL) and how to fix it; `INVALID_ARGUMENT` for an
 * unknown mode or an unknown option key (named, with the known ones).
 */
export function createBackend(options: GpuJsBackendOptions = {}): GpuJsBackend {
  const record = checkedOptions(options, OPTION_KEYS, "{ mode: 'cpu' }");
  const { mode, fallbackReason } = resolveMode(record['mode'] ?? 'auto');
  const ctx = new KernelContext(mode);
  const details: Record<string, string | number | boolean> = {
    mode,
    precision: 'single',
    // The installed gpu.js, not the version this file was written against
    engine: `gpu.js ${gpuJsPackage.version}`,
  };
  if (fallbackReason !== '') details['fallbackReason'] = fallbackReason;
  // This instance's tensors and saved values: every method refuses others in O(1), before a
  // kernel binds a texture of another GL context or reads a look-alike
  const handles = new HandleRegistry<GpuTensor, GpujsSaved>('gpujs');
  return handles.guard({
    name: 'gpujs',
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float32',
    details,
    // CPU mode runs the kernel in the call; WebGL queues draws, with no wait but a pixel read
    completion: mode === 'cpu' ? 'on-return' : 'queued',
    mode,
    get readbacks() {
      return ctx.downloads;
    },
    get pixelReads() {
      return ctx.pixelReads;
    },
    get compiledKernels() {
      return ctx.kernels.size;
    },
    upload(data, shape) {
      assertTensorData(data, shape);
      return ctx.upload(data, shape);
    },
    // An async function runs its body up to the first await at once: the download happens in
    // the call, so the caller may dispose `t` as soon as `read` returns.
    read: async (t) => ctx.download(t),
    readSync: (t) => ctx.download(t),
    dispose: (t) => ctx.release(t),
    disposeSaved: (saved) => disposeSaved(ctx, saved),
    destroy: () => ctx.destroy(),
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
    }),
  } satisfies Omit<GpuJsBackend, 'isTensor'>) satisfies GpuJsBackend;
}

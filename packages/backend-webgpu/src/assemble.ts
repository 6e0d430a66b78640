import {
  assertTensorData,
  bindKernels,
  HandleRegistry,
  KERNEL_NAMES,
  SPECIFICATION_VERSION,
  type BackendDetails,
  type KernelName,
} from '@batchnorm/core';
import { KernelContext } from './context.js';
import type { Shader, ShaderConfig } from './dispatch.js';
import type { AcquiredDevice } from './device.js';
import * as addBias from './kernels/addBias.js';
import * as batchNormBackward from './kernels/batchNormBackward.js';
import * as batchNormForwardInference from './kernels/batchNormForwardInference.js';
import * as batchNormForwardTraining from './kernels/batchNormForwardTraining.js';
import * as matMul from './kernels/matMul.js';
import * as relu from './kernels/relu.js';
import * as reluBackward from './kernels/reluBackward.js';
import * as runningAverage from './kernels/runningAverage.js';
import * as sgdUpdate from './kernels/sgdUpdate.js';
import * as sigmoid from './kernels/sigmoid.js';
import * as sigmoidBackward from './kernels/sigmoidBackward.js';
import * as softmaxCrossEntropy from './kernels/softmaxCrossEntropy.js';
import * as sumRows from './kernels/sumRows.js';
import { gpuSaved, gpuTensor } from './tensor.js';
import type { WebGpuBackend, WebGpuSaved, WebGpuTensor } from './types.js';

/** A kernel's module: its shaders, and its function under the kernel's name. */
type KernelModule<N extends KernelName> = { readonly shaders: readonly Shader[] } & {
  readonly [K in N]: (ctx: KernelContext, ...args: never[]) => unknown;
};

/** The kernels by contract name: a kernel missing here, or misnamed, is a type error. */
const KERNEL_MODULES = {
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
} as const satisfies { readonly [N in KernelName]: KernelModule<N> };

/** Every shader of the backend, compiled when it is created. */
export const SHADERS: readonly Shader[] = Object.values(KERNEL_MODULES).flatMap((m) => m.shaders);

/** Each module's kernel function by name (the type above checks that each module has it). */
const KERNELS = Object.fromEntries(
  KERNEL_NAMES.map((name) => [name, (KERNEL_MODULES[name] as unknown as Record<KernelName, unknown>)[name]]),
) as { readonly [N in KernelName]: (typeof KERNEL_MODULES)[N] extends Record<N, infer F> ? F : never };

/** The largest power of two ≤ `n`. */
function powerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * Workgroup sizes from the device's limits: 64 invocations for the 1-d kernels (every barrier
 * suspends the whole workgroup on a CPU adapter, and a small feature leaves most of a large
 * workgroup idle; README "Performance"), 16×16 matMul tiles, less where the device allows less.
 */
export function shaderConfig(limits: GPUSupportedLimits, subgroups: boolean): ShaderConfig {
  const workgroupSize = powerOfTwoAtMost(Math.min(64, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX));
  const tile = powerOfTwoAtMost(Math.min(16, Math.sqrt(limits.maxComputeInvocationsPerWorkgroup), limits.maxComputeWorkgroupSizeY));
  return { workgroupSize, subgroups, tile };
}

export function detailsOf(acquired: AcquiredDevice, config: ShaderConfig, ctx: KernelContext): BackendDetails {
  const { info } = acquired;
  // Dawn describes its adapters ("OpenGL version 4.5 … Mesa"); browsers often leave it empty
  const named = [info.vendor, info.architecture, info.device].filter((s) => s !== '').join(' ');
  const adapter = info.description !== '' ? info.description : named !== '' ? named : 'unknown adapter';
  return {
    precision: 'float32',
    api: acquired.api,
    ...(acquired.dawnFlags === undefined
      ? {}
      : { dawnFlags: acquired.dawnFlags.length === 0 ? '(default)' : acquired.dawnFlags.join(' ') }),
    adapter,
    ...(info.device === '' || info.device === adapter ? {} : { device: info.device }),
    ...(info.vendor === '' ? {} : { vendor: info.vendor }),
    ...(info.architecture === '' ? {} : { architecture: info.architecture }),
    featureLevel: acquired.featureLevel,
    features: [...acquired.adapter.features].sort().join(' ') || '(none)',
    subgroups: acquired.subgroups.reason,
    gpuTime: acquired.gpuTime,
    workgroupSize: config.workgroupSize,
    matMulTile: config.tile,
    maxStorageBufferBindingSize: ctx.maxBindingBytes,
  };
}

/**
 * The backend object over a ready context (tests build one on a device of their own). Core's
 * `HandleRegistry.guard` checks every tensor and `saved` argument at the boundary (`INVALID_HANDLE`
 * for another backend's or instance's, a look-alike, a disposed one), registers what the kernels
 * return and gives `isTensor`, as for every backend of the repository.
 */
export function backendOn(ctx: KernelContext, details: BackendDetails): WebGpuBackend {
  const handles = new HandleRegistry<WebGpuTensor, WebGpuSaved>('webgpu');
  return handles.guard({
    name: 'webgpu',
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float32',
    details,
    // kernels are command buffers submitted to the device's queue; onSubmittedWorkDone waits
    completion: 'queued',
    upload(data, shape) {
      assertTensorData(data, shape);
      return ctx.upload(data instanceof Float32Array ? data : Float32Array.from(data), shape);
    },
    // The copy is enqueued before the first await: values as of the call, whatever follows.
    read: async (t) => ctx.read(gpuTensor(t, 't', ctx)),
    // the guard lets through only a live tensor of this instance (twice is a no-op there)
    dispose: (t) => ctx.dispose(gpuTensor(t, 't', ctx)),
    disposeSaved: (saved) => ctx.disposeSaved(gpuSaved(saved, ctx)),
    destroy: () => ctx.destroy(),
    ...bindKernels(ctx, KERNELS, { around: (kernel, run) => ctx.timed(kernel, run) }),
    stats: () => ctx.stats(),
    resetStats: () => ctx.resetStats(),
    onSubmittedWorkDone: () => ctx.onSubmittedWorkDone(),
  } satisfies Omit<WebGpuBackend, 'isTensor'>) satisfies WebGpuBackend;
}

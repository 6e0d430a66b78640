import {
  assertTensorData,
  HandleRegistry,
  referenceKernels,
  SPECIFICATION_VERSION,
  type BackendModule,
  type SyncBackend,
} from '@batchnorm/core';
import { batchNormBackward } from './kernels/batchNormBackward.js';
import { batchNormForwardInference } from './kernels/batchNormForwardInference.js';
import { batchNormForwardTraining } from './kernels/batchNormForwardTraining.js';
import type { TemplateSaved } from './saved.js';
import { templateTensor, type TemplateTensor } from './tensor.js';

/** The registry name: this manifest's, and this backend's entry in core's `KNOWN_BACKENDS`. */
const name = 'template';

/**
 * This backend's type. `SyncBackend` because it declares `readSync`; a backend that can only read
 * asynchronously (WebGPU) drops `readSync` and is a `Backend<TemplateTensor, TemplateSaved>`.
 */
export type TemplateBackend = SyncBackend<TemplateTensor, TemplateSaved>;

/**
 * Creates the backend. Its batch-norm kernels are written out in `src/kernels/`, one file per
 * kernel of the contract; the others are still the reference's (`referenceKernels`, which work on
 * any tensor of the reference's structure): replace them one file at a time with your engine's.
 *
 * `handles.guard` gives the backend its `isTensor` and checks every argument of every method in
 * O(1): a tensor of another backend or instance, a look-alike or a disposed tensor is refused
 * with `INVALID_HANDLE`, and the handles it returns are frozen (their shape never changes).
 * Keep what must change about a handle on release in private fields or off the handle.
 */
export function createBackend(): TemplateBackend {
  const handles = new HandleRegistry<TemplateTensor, TemplateSaved>(name);
  return handles.guard({
    name,
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float64',
    details: { precision: 'float64' },
    // How a call completes: 'on-return' when the work is done as the call returns (as here,
    // loops on the host); 'queued' for a device queue (then add onSubmittedWorkDone if it can wait)
    completion: 'on-return',
    upload(data, shape) {
      assertTensorData(data, shape);
      return templateTensor(Float64Array.from(data), shape);
    },
    // The one required read. Its result must hold the values as of the call: the caller may
    // dispose `t` at once. (The copy happens before the promise is made.)
    read: async (t) => t.data.slice(),
    // Optional capabilities: `readSync` where the engine can read synchronously, and `readInto`
    // (copy into the caller's array) where it can avoid allocating.
    readSync: (t) => t.data.slice(),
    // Free the engine's memory here; the guard has already refused a tensor this instance did not
    // make, and calls this once per tensor however often the caller disposes it.
    dispose() {},
    disposeSaved() {},
    destroy() {},
    batchNormForwardTraining,
    batchNormForwardInference,
    batchNormBackward,
    runningAverage: referenceKernels.runningAverage,
    matMul: referenceKernels.matMul,
    addBias: referenceKernels.addBias,
    sumRows: referenceKernels.sumRows,
    sigmoid: referenceKernels.sigmoid,
    sigmoidBackward: referenceKernels.sigmoidBackward,
    relu: referenceKernels.relu,
    reluBackward: referenceKernels.reluBackward,
    softmaxCrossEntropy: referenceKernels.softmaxCrossEntropy,
    sgdUpdate: referenceKernels.sgdUpdate,
  } satisfies Omit<TemplateBackend, 'isTensor'>) satisfies TemplateBackend;
}

/**
 * The manifest the registry, the conformance CLI, the MNIST app and the bench load: everything
 * they know about this backend comes from here.
 */
export const backendModule = {
  name,
  packageName: '@batchnorm/backend-template',
  description: 'float64 on the host: a starting point for a new backend (templates/backend-template)',
  createBackend,
  traits: {
    /** where tensors live between kernels: 'host', or 'device' (a GPU, a native engine) */
    residence: 'host',
    /** the conformance tolerance profile: 'float64', 'float32' or 'float32-gpu' */
    tolerance: 'float64',
    /** what the environment must provide: 'display', 'native-binding', 'webgpu' */
    requires: [],
    environments: ['node', 'browser'],
  },
} as const satisfies BackendModule<TemplateBackend>;

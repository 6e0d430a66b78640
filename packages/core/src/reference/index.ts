import { SPECIFICATION_VERSION, type KernelName } from '../backend.js';
import type { SyncBackend } from '../reads.js';
import { HandleRegistry } from '../handles.js';
import { assertTensorData } from '../validate.js';
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
import { referenceTensor, type ReferenceSaved, type ReferenceTensor } from './tensor.js';

export type { ReferenceSaved, ReferenceTensor } from './tensor.js';
export { batchStatistics } from './kernels/batchStatistics.js';

/** The reference backend's type: it reads synchronously too. */
export type ReferenceBackend = SyncBackend<ReferenceTensor, ReferenceSaved>;

/**
 * The reference's kernels as plain functions, without a backend instance's handle checks: for a
 * backend whose tensors have the reference's structure (`{ data: Float64Array, shape }`), such as
 * templates/backend-template, to use until it has its own (through its own `HandleRegistry`).
 */
export const referenceKernels = {
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
} as const satisfies Pick<ReferenceBackend, KernelName>;

/**
 * The reference backend: float64 on the host, written for clarity from the paper's formulas.
 * Every other backend is judged against it. Each instance knows its own tensors: one made by
 * another instance is refused like any other backend's.
 */
export function createReferenceBackend(): ReferenceBackend {
  const handles = new HandleRegistry<ReferenceTensor, ReferenceSaved>('reference');
  return handles.guard({
    name: 'reference',
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float64',
    details: { precision: 'float64' },
    completion: 'on-return',
    upload(data, shape) {
      assertTensorData(data, shape);
      return referenceTensor(Float64Array.from(data), shape);
    },
    read: async (t) => t.data.slice(),
    readSync: (t) => t.data.slice(),
    // nothing to free: the registry marks it released, so it is refused from now on
    dispose() {},
    disposeSaved() {},
    destroy() {},
    ...referenceKernels,
  } satisfies Omit<ReferenceBackend, 'isTensor'>) satisfies ReferenceBackend;
}

import { SPECIFICATION_VERSION, type SyncBackend } from '../backend.js';
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
 * The reference backend: float64 on the host, written for clarity from the paper's formulas.
 * Every other backend is judged against it.
 */
export function createReferenceBackend(): ReferenceBackend {
  return {
    name: 'reference',
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float64',
    details: { precision: 'float64' },
    upload(data, shape) {
      assertTensorData(data, shape);
      return referenceTensor(Float64Array.from(data), shape);
    },
    read: async (t) => t.data.slice(),
    readSync: (t) => t.data.slice(),
    dispose() {},
    disposeSaved() {},
    destroy() {},
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
  } satisfies ReferenceBackend;
}

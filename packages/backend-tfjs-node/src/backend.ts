import { assertTensorData, bindKernels, checkedOptions, HandleRegistry, SPECIFICATION_VERSION, type SyncBackend } from '@batchnorm/core';
import { createTensorFlowOps } from './tensorFlowOps.js';
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
import { loadTensorFlow } from './loader.js';

import { disposeSaved, type TfjsSaved } from './saved.js';
import { wrap, type TfjsNodeTensor } from './tensor.js';
import type { TfjsNodeBackend, TfjsNodeBackendOptions } from './types.js';

/** Which TensorFlow op serves each kernel, for reports (`details.route.*`). */
export const KERNEL_ROUTES = {
  batchNormForwardTraining: 'channels-last, NC: FusedBatchNormV3(is_training); channels-first: moments + affine',
  batchNormForwardInference: 'channels-last, NC: FusedBatchNormV3; channels-first: folded affine',
  batchNormBackward: 'channels-last, NC: FusedBatchNormGradV3 on saved reserve spaces; channels-first: composed',
  layouts:
    'channels-last (NLC, NHWC, NDHWC) and one position per map (NC) as NHWC [N,S,1,C]; ' +
    'channels-first (NCL, NCHW, NCDHW) composed on [N,C,S,1] (the CPU fused ops transpose it, slower)',
  sigmoidBackward: 'SigmoidGrad',
  reluBackward: 'ReluGrad',
  softmaxCrossEntropy: 'logSoftmax',
} as const;

/**
 * The backend as the package builds it: its tensors are tfjs-node's own. Handed out as the public
 * `TfjsNodeBackend`, whose types only outline a tensor; the handle registry refuses every handle
 * this instance did not make, so what comes back in is always one of these.
 */
type InternalBackend = SyncBackend<TfjsNodeTensor, TfjsSaved>;

/**
 * The tfjs-node backend: TensorFlow's own kernels (its fused batch-norm ops) through
 * @tensorflow/tfjs-node. Tensors stay TensorFlow tensors between kernels.
 *
 * @throws BatchNormError `BACKEND_UNAVAILABLE` naming the setup command when tfjs-node's native
 * binding is not built; `BACKEND_NOT_INSTALLED` when @tensorflow/tfjs-node is missing;
 * `INVALID_ARGUMENT` naming the key when given any option (it takes none).
 */
export function createBackend(options: TfjsNodeBackendOptions = {}): TfjsNodeBackend {
  // Before TensorFlow loads: a wrong call is refused even where the binding is missing.
  checkedOptions(options, [], 'createBackend() (tfjs-node takes no options)');
  const loaded = loadTensorFlow();
  const { tf, native } = loaded;
  const ops = createTensorFlowOps(loaded);
  const details = {
    tfjsNode: tf.version['tfjs-node'] ?? 'unknown',
    tensorflow: native.binding.TF_Version,
    device: native.isUsingGpuDevice ? 'gpu' : 'cpu',
    oneDNN: process.env.TF_ENABLE_ONEDNN_OPTS !== '0',
    pooledAllocator: process.env.TF_CPU_ALLOCATOR_USE_BFC === 'true',
    ...Object.fromEntries(Object.entries(KERNEL_ROUTES).map(([kernel, route]) => [`route.${kernel}`, route])),
  };
  // This instance's tensors and saved values: every method refuses others in O(1). A tensor
  // TensorFlow released behind our back (tf.tidy, tensor.dispose()) is no longer live either.
  const handles = new HandleRegistry<TfjsNodeTensor, TfjsSaved>('tfjs-node', { alive: (t) => !t.tensor.isDisposed });
  return handles.guard({
    name: 'tfjs-node',
    specificationVersion: SPECIFICATION_VERSION,
    dtype: 'float32',
    details,
    // eager CPU ops run inside the call; on a GPU (tfjs-node-gpu) they go to a CUDA stream
    completion: native.isUsingGpuDevice ? 'queued' : 'on-return',
    upload(data, shape) {
      assertTensorData(data, shape);
      // tfjs-node hands the JS array's memory to TensorFlow without copying: copy it first so the
      // caller's array stays theirs, and materialize it (Identity) so a later dataSync never
      // returns this private copy itself.
      const copy = data instanceof Float32Array ? data.slice() : Float32Array.from(data);
      const staged = tf.tensor(copy, [...shape], 'float32');
      const [tensor] = ops.runOp('Identity', [staged], 1);
      staged.dispose();
      return wrap(tensor!, shape);
    },
    // The copy is made in the call (an async function runs its body up to the first await at
    // once): the caller may dispose `t` as soon as `read` returns.
    read: async (t) => t.tensor.dataSync<'float32'>(),
    readSync: (t) => t.tensor.dataSync<'float32'>(),
    dispose: (t) => t.tensor.dispose(),
    disposeSaved,
    // Tensors belong to their callers and tfjs-node's engine is process-wide (shared with the
    // user's own tfjs code): there is nothing of ours to release.
    destroy() {},
    ...bindKernels(ops, {
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
  } satisfies Omit<InternalBackend, 'isTensor'>) satisfies InternalBackend;
}

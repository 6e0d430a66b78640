import type { Tensor } from '@tensorflow/tfjs-node';
import type { TFEOpAttr } from '@tensorflow/tfjs-node/dist/tfjs_binding.js';
import type { BatchNormAttrs } from '@batchnorm/core';
import type { LoadedTensorFlow, TfModule } from './loader.js';

/** TensorFlow's `data_format`; the fused route always passes NHWC views (see route.ts). */
export type DataFormat = 'NHWC' | 'NCHW';

export type FusedBatchNormOp = 'FusedBatchNormV3' | 'FusedBatchNormGradV3';

export interface FusedBatchNormAttrs {
  readonly epsilon: number;
  readonly dataFormat: DataFormat;
  readonly isTraining: boolean;
}

/** What every kernel gets: the tfjs API and TensorFlow's raw ops by name (the fused batch-norm ops among them). */
export interface TensorFlowOps {
  readonly tf: TfModule;
  /** Runs a TensorFlow op by name (`FusedBatchNormV3`, `SigmoidGrad`, …) on float32 inputs. */
  runOp(name: string, inputs: readonly Tensor[], numOutputs: number, attrs?: readonly TFEOpAttr[]): Tensor[];
  /** The attributes of `FusedBatchNormV3` or `FusedBatchNormGradV3` (`T`, `U` float32). */
  fusedBatchNormAttrs(op: FusedBatchNormOp, attrs: FusedBatchNormAttrs): TFEOpAttr[];
}

export function createTensorFlowOps({ tf, native }: LoadedTensorFlow): TensorFlowOps {
  const { binding } = native;
  const float32: TFEOpAttr = { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT };
  return {
    tf,
    runOp(name, inputs, numOutputs, attrs = [float32]) {
      return native.executeMultipleOutputs(name, [...attrs], [...inputs], numOutputs);
    },
    fusedBatchNormAttrs(op, { epsilon, dataFormat, isTraining }) {
      const attrs: TFEOpAttr[] = [
        float32,
        { name: 'U', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
        { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: epsilon },
        { name: 'data_format', type: binding.TF_ATTR_STRING, value: dataFormat },
        { name: 'is_training', type: binding.TF_ATTR_BOOL, value: isTraining },
      ];
      // With is_training, a factor of 1 makes the forward ignore its running-statistics inputs
      // (we pass empty tensors): the layer keeps its own running averages. The gradient op has
      // no such attribute.
      if (op === 'FusedBatchNormV3') {
        attrs.push({ name: 'exponential_avg_factor', type: binding.TF_ATTR_FLOAT, value: 1 });
      }
      return attrs;
    },
  };
}

export function fusedAttrs(attrs: BatchNormAttrs, dataFormat: DataFormat, isTraining: boolean): FusedBatchNormAttrs {
  return { epsilon: attrs.epsilon, dataFormat, isTraining };
}

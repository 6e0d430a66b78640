import { join } from 'node:path';
import type { BatchNormState } from '@batchnorm/core';
import { encodeMlpOnnx, encodeSafetensors, mergeSafetensors, mlpSafetensors, type MlpLayer, type MlpModel } from '@batchnorm/interop';
import { writeFileAtomic } from './files.js';
import { valuesOf, type MlpSnapshot, type Variant } from './model.js';

/** A trained network as it was evaluated: its parameters and the BN statistics inference used. */
export interface TrainedModel {
  readonly variant: Variant;
  readonly step: number;
  readonly testAccuracy: number;
  /** `exact` (the paper's Algorithm 2) or `moving`; null without BN. */
  readonly population: 'exact' | 'moving' | null;
  readonly snapshot: MlpSnapshot;
  /** One per hidden layer for `bn`: the states inference normalized with. */
  readonly inference: readonly BatchNormState[];
}

/** The files `exportModels` writes for a variant. */
export function modelFileNames(variant: Variant): { onnx: string; safetensors: string } {
  return { onnx: `${variant}.onnx`, safetensors: `${variant}.safetensors` };
}

/**
 * The network under the attribute names of the PyTorch module in the README: `fc1`…`fc3` for the
 * hidden `Linear`s (no bias before a BN), `bn1`…`bn3`, `out` for the output `Linear`.
 */
export function mlpModelOf(trained: TrainedModel): MlpModel {
  const { snapshot, inference } = trained;
  const sizes = snapshot.layerSizes;
  const layers: MlpLayer[] = snapshot.weights.map((weight, l) => {
    const isOutput = l === snapshot.weights.length - 1;
    const bias = snapshot.biases[l];
    const state = inference[l];
    if (!isOutput && snapshot.variant === 'bn' && state === undefined) {
      throw new Error(`${snapshot.variant} network: no BN statistics for hidden layer ${l + 1}`);
    }
    return {
      name: isOutput ? 'out' : `fc${l + 1}`,
      inFeatures: sizes[l]!,
      outFeatures: sizes[l + 1]!,
      weight: valuesOf(weight),
      weightLayout: 'inOut', // core's matMul: y = x·W with W [in, out]
      ...(bias === null || bias === undefined ? {} : { bias: valuesOf(bias) }),
      ...(isOutput || state === undefined || snapshot.variant !== 'bn' ? {} : { batchNorm: { name: `bn${l + 1}`, state } }),
      ...(isOutput ? {} : { activation: 'sigmoid' as const }),
    };
  });
  return { layers };
}

function describe(trained: TrainedModel): string {
  const population =
    trained.population === null ? '' : `, BN with ${trained.population} population statistics`;
  return (
    `@batchnorm/mnist ${trained.variant} network (784-100-100-100-10 sigmoid MLP) at step ${trained.step}` +
    `${population}; test accuracy ${(trained.testAccuracy * 100).toFixed(2)}% on the app's evaluation. ` +
    'Input x: float32 [batch, 784], pixels divided by 255; output logits [batch, 10].'
  );
}

/**
 * Writes `<variant>.onnx` and `<variant>.safetensors` into `outDir`, atomically. The safetensors
 * dtype follows the backend's (F32, or F64 for a float64 backend, exactly what it trained); ONNX
 * stores float32. Returns the paths written.
 */
export function exportModel(trained: TrainedModel, outDir: string): string[] {
  const model = mlpModelOf(trained);
  const names = modelFileNames(trained.variant);
  const dtype = trained.snapshot.weights[0]?.dtype === 'float64' ? 'F64' : 'F32';
  const info = describe(trained);
  const tensors = mergeSafetensors(mlpSafetensors(model, { dtype }), {
    tensors: {},
    metadata: {
      'batchnorm-mnist': JSON.stringify({
        variant: trained.variant,
        step: trained.step,
        testAccuracy: trained.testAccuracy,
        population: trained.population,
      }),
      description: info,
    },
  });
  const onnxPath = join(outDir, names.onnx);
  const safetensorsPath = join(outDir, names.safetensors);
  writeFileAtomic(onnxPath, encodeMlpOnnx(model, { docString: info, graphName: `mnist_${trained.variant}` }));
  writeFileAtomic(safetensorsPath, encodeSafetensors(tensors));
  return [onnxPath, safetensorsPath];
}

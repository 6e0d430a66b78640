import { BatchNormError, describeValue, type BatchNormState } from '@batchnorm/core';
import { batchNormTensors, mergeSafetensors, type BatchNormWriteOptions } from './pytorch.js';
import type { SafetensorsContent } from './safetensorsEncode.js';

function invalid(argument: string, expected: string, value: unknown): BatchNormError {
  return new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected, received: describeValue(value) });
}

/** One fully-connected layer of a multilayer perceptron, with what follows it. */
export interface MlpLayer {
  /** The PyTorch attribute of its `Linear` (`fc1`, `out`): names its weights in both formats. */
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Row-major weights: `[inFeatures, outFeatures]` for `'inOut'` (`y = x·W`, as core's `matMul` and the MNIST app keep them), `[outFeatures, inFeatures]` for `'outIn'` (PyTorch's `Linear.weight`). */
  readonly weight: ArrayLike<number>;
  readonly weightLayout: 'inOut' | 'outIn';
  /** Absent: no bias (`Linear(bias=False)`, as before a BN). */
  readonly bias?: ArrayLike<number>;
  /** A BN after the linear map (`NC` layout, `numFeatures = outFeatures`), named by its PyTorch attribute (`bn1`). */
  readonly batchNorm?: { readonly name: string; readonly state: BatchNormState };
  /** The nonlinearity after the BN (or the linear map); absent for none (the output layer). */
  readonly activation?: 'sigmoid' | 'relu';
}

export interface MlpModel {
  readonly layers: readonly MlpLayer[];
}

/** The weights as PyTorch's `Linear.weight`, `[outFeatures, inFeatures]`, in float32 or float64. */
export function weightOutIn(
  layer: MlpLayer,
  argument: string,
  ArrayType: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): Float32Array | Float64Array {
  const { inFeatures: n, outFeatures: m, weight } = layer;
  if (weight?.length !== n * m) {
    throw new BatchNormError({ code: 'SHAPE_MISMATCH', argument: `${argument}.weight`, expected: `${n * m} values (${n}·${m})`, received: describeValue(weight) });
  }
  if (layer.weightLayout === 'outIn') return ArrayType.from(weight);
  if (layer.weightLayout !== 'inOut') throw invalid(`${argument}.weightLayout`, '"inOut" or "outIn"', layer.weightLayout);
  const out = new ArrayType(n * m);
  for (let i = 0; i < n; i++) for (let o = 0; o < m; o++) out[o * n + i] = weight[i * m + o]!;
  return out;
}

/** Checks an MLP description: names, sizes chained, BN states of the right width. */
export function assertMlpModel(model: MlpModel): void {
  if (typeof model !== 'object' || model === null || !Array.isArray(model.layers) || model.layers.length === 0) {
    throw invalid('model.layers', 'a non-empty array of layers', model?.layers);
  }
  const names = new Set<string>();
  model.layers.forEach((layer, l) => {
    const argument = `model.layers[${l}]`;
    for (const name of [layer.name, layer.batchNorm?.name]) {
      if (name === undefined) continue;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(`${argument}.name`, 'a Python identifier (a PyTorch attribute name)', name);
      if (names.has(name)) throw invalid(`${argument}.name`, 'a name no other layer has', name);
      names.add(name);
    }
    for (const key of ['inFeatures', 'outFeatures'] as const) {
      if (!Number.isInteger(layer[key]) || layer[key] < 1) throw invalid(`${argument}.${key}`, 'a positive integer', layer[key]);
    }
    const previous = model.layers[l - 1];
    if (previous !== undefined && previous.outFeatures !== layer.inFeatures) {
      throw new BatchNormError({ code: 'SHAPE_MISMATCH', argument: `${argument}.inFeatures`, expected: `${previous.outFeatures} (the previous layer's outFeatures)`, received: String(layer.inFeatures) });
    }
    if (layer.bias !== undefined && layer.bias.length !== layer.outFeatures) {
      throw new BatchNormError({ code: 'SHAPE_MISMATCH', argument: `${argument}.bias`, expected: `${layer.outFeatures} values`, received: describeValue(layer.bias) });
    }
    const bn = layer.batchNorm;
    if (bn !== undefined) {
      if (bn.state?.schema !== 'batchnorm-state/1') throw invalid(`${argument}.batchNorm.state`, 'a BatchNormState', bn.state);
      if (bn.state.numFeatures !== layer.outFeatures || bn.state.layout !== 'NC') {
        throw new BatchNormError({
          code: 'SHAPE_MISMATCH',
          argument: `${argument}.batchNorm.state`,
          expected: `an NC layer of ${layer.outFeatures} features`,
          received: `${bn.state.layout} with ${bn.state.numFeatures} features`,
        });
      }
    }
    if (layer.activation !== undefined && layer.activation !== 'sigmoid' && layer.activation !== 'relu') {
      throw invalid(`${argument}.activation`, '"sigmoid", "relu" or undefined', layer.activation);
    }
    weightOutIn(layer, argument);
  });
}

/**
 * The MLP's parameters under the names of a PyTorch module whose attributes are the layers'
 * and BNs' names: `<name>.weight` `[out, in]`, `<name>.bias` where the layer has one, and each
 * BN's five tensors under `<bn name>.` (running variance unbiased, `num_batches_tracked` I64).
 */
export function mlpSafetensors(model: MlpModel, options: BatchNormWriteOptions = {}): SafetensorsContent {
  assertMlpModel(model);
  const dtype = options.dtype ?? 'F32';
  const parts: SafetensorsContent[] = model.layers.map((layer, l) => {
    const tensors: Record<string, { dtype: 'F32' | 'F64'; shape: number[]; data: ArrayLike<number> }> = {
      [`${layer.name}.weight`]: {
        dtype,
        shape: [layer.outFeatures, layer.inFeatures],
        data: weightOutIn(layer, `model.layers[${l}]`, dtype === 'F64' ? Float64Array : Float32Array),
      },
    };
    if (layer.bias !== undefined) tensors[`${layer.name}.bias`] = { dtype, shape: [layer.outFeatures], data: layer.bias };
    return { tensors };
  });
  for (const layer of model.layers) {
    if (layer.batchNorm !== undefined) parts.push(batchNormTensors(layer.batchNorm.state, `${layer.batchNorm.name}.`, options));
  }
  return mergeSafetensors(...parts);
}

export { InteropError, type InteropErrorDetails, type InteropLocation } from './errors.js';
export * from './conventions.js';
export * from './safetensors.js';
export * from './safetensorsEncode.js';
export {
  batchNormTensors,
  encodeBatchNormSafetensors,
  mergeSafetensors,
  metadataKey,
  PYTORCH_BN_SUFFIXES,
  statesOf,
  type BatchNormLayers,
  type BatchNormWriteOptions,
  type LayerMetadata,
} from './pytorch.js';
export * from './pytorchDecode.js';
export { assertMlpModel, mlpSafetensors, type MlpLayer, type MlpModel } from './mlp.js';
export * from './onnx/model.js';
export { decodeOnnxTensor, encodeOnnxTensor } from './onnx/tensor.js';
export * from './onnx/decode.js';
export * from './onnx/encode.js';
export * from './onnx/check.js';
export * from './onnx/batchNorm.js';
export * from './onnx/write.js';
export * from './onnx/writeMlp.js';
export * from './onnx/backendTest.js';
export * from './onnx/backendTestRun.js';

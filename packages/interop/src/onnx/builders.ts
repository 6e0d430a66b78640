import { BatchNormError, describeValue } from '@batchnorm/core';
import { ATTRIBUTE_FLOAT, ATTRIBUTE_INT, ONNX_FLOAT, type OnnxAttribute, type OnnxDim, type OnnxTensor, type OnnxValueInfo } from './model.js';

/** Small builders and checks shared by the ONNX writers (write.ts, writeMlp.ts); not public. */

/** The IR version each opset shipped with (onnx.helper's VERSION_TABLE). */
export const IR_VERSION_OF_OPSET: Readonly<Record<number, number>> = { 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8 };

export function invalid(argument: string, expected: string, value: unknown): BatchNormError {
  return new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected, received: describeValue(value) });
}

export function assertOpset(opset: unknown, min: number): asserts opset is number {
  if (typeof opset !== 'number' || !Number.isInteger(opset) || opset < min || opset > 15) {
    throw invalid('options.opset', `an integer in [${min}, 15]`, opset);
  }
}

export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): OnnxTensor {
  return { name, dataType: ONNX_FLOAT, dims, values: Float32Array.from(values) };
}

export function floatAttr(name: string, f: number): OnnxAttribute {
  return { name, type: ATTRIBUTE_FLOAT, f };
}

export function intAttr(name: string, i: number): OnnxAttribute {
  return { name, type: ATTRIBUTE_INT, i };
}

export function floatInput(name: string, shape: readonly OnnxDim[]): OnnxValueInfo {
  return { name, elemType: ONNX_FLOAT, shape };
}

export function assertName(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw invalid(argument, 'a non-empty name', value);
}

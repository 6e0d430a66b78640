/**
 * The subset of ONNX's protobuf messages (onnx.proto, IR version 3 and later) that a batch-norm
 * graph uses, decoded to plain objects and encoded back. Fields this package does not use are
 * skipped on reading and never written.
 */

/** `TensorProto.DataType` values this package decodes. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_DOUBLE = 11;

const DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64',
  15: 'COMPLEX128', 16: 'BFLOAT16',
};

export function dataTypeName(dataType: number): string {
  return DATA_TYPE_NAMES[dataType] ?? `data type ${dataType}`;
}

/** Values of a tensor of a type this package reads. */
export type OnnxTensorValues = Float32Array | Float64Array | Int32Array | BigInt64Array;

export interface OnnxTensor {
  readonly name: string;
  /** `TensorProto.DataType`: 1 FLOAT, 6 INT32, 7 INT64, 11 DOUBLE (read); others are kept undecoded. */
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Absent for a data type this package does not decode. */
  readonly values?: OnnxTensorValues;
}

/** A dimension: a size, a symbolic name (`"batch"`), or unknown. */
export type OnnxDim = number | string | undefined;

export interface OnnxValueInfo {
  readonly name: string;
  /** The tensor's element type; absent when the type is not a tensor or is not given. */
  readonly elemType?: number;
  /** Absent when the shape is unknown (rank included). */
  readonly shape?: readonly OnnxDim[];
}

export interface OnnxAttribute {
  readonly name: string;
  /** `AttributeProto.AttributeType`: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, … */
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: string;
  readonly t?: OnnxTensor;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
}

export const ATTRIBUTE_FLOAT = 1;
export const ATTRIBUTE_INT = 2;
export const ATTRIBUTE_STRING = 3;
export const ATTRIBUTE_TENSOR = 4;
export const ATTRIBUTE_FLOATS = 6;
export const ATTRIBUTE_INTS = 7;

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  /** `""` (or absent in the file) is the default domain, `ai.onnx`. */
  readonly domain: string;
  /** Input names; `""` marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly OnnxAttribute[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly valueInfo: readonly OnnxValueInfo[];
}

export interface OnnxOpsetImport {
  readonly domain: string;
  readonly version: number;
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetImports: readonly OnnxOpsetImport[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly graph: OnnxGraph;
}

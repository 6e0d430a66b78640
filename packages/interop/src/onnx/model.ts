import { MAX_ELEMENTS } from '@batchnorm/core';
import { malformed, unsupported, type InteropLocation } from '../errors.js';
import {
  fieldBytes,
  fieldFloat,
  fieldInt,
  fieldString,
  ProtoWriter,
  readFields,
  repeatedNumbers,
  WIRE_LENGTH,
} from './protobuf.js';

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

// ---------------------------------------------------------------------------------------------
// decoding

function elementCount(dims: readonly number[], where: InteropLocation): number {
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw malformed({ ...where, field: 'dims' }, 'sizes ≥ 0', `[${dims.join(', ')}]`);
    count *= d;
    if (count > MAX_ELEMENTS) {
      throw malformed({ ...where, field: 'dims' }, `at most ${MAX_ELEMENTS} elements`, `[${dims.join(', ')}]`);
    }
  }
  return count;
}

const ELEMENT_BYTES: Readonly<Record<number, number>> = { [ONNX_FLOAT]: 4, [ONNX_INT32]: 4, [ONNX_INT64]: 8, [ONNX_DOUBLE]: 8 };

/** Decodes a `TensorProto`, checking that its data has exactly `∏dims` elements before allocating. */
function decodeTensor(bytes: Uint8Array, where: InteropLocation): OnnxTensor {
  const fields = readFields(bytes, where);
  let name = '';
  let dataType = 0;
  let raw: Uint8Array | undefined;
  let external = false;
  let segment = false;
  for (const field of fields) {
    if (field.number === 8) name = fieldString(field, where, 'name');
    else if (field.number === 2) dataType = fieldInt(field, where, 'data_type');
    else if (field.number === 9) raw = fieldBytes(field, where, 'raw_data');
    else if (field.number === 14) external = fieldInt(field, where, 'data_location') === 1;
    else if (field.number === 3) segment = true;
  }
  const at: InteropLocation = { ...where, ...(name === '' ? {} : { tensor: name }) };
  const dims = repeatedNumbers(fields, 1, 'int', at, 'dims');
  const count = elementCount(dims, at);
  if (external) {
    throw unsupported({ ...at, field: 'data_location' }, 'data stored inside the model', 'EXTERNAL data', 'Load the model with its external data inlined (onnx.load + onnx.save with save_as_external_data=False).');
  }
  if (segment) throw unsupported({ ...at, field: 'segment' }, 'a whole tensor', 'a segment of one');
  const size = ELEMENT_BYTES[dataType];
  if (size === undefined) return { name, dataType, dims };
  let values: OnnxTensorValues;
  if (raw !== undefined) {
    if (raw.length !== count * size) {
      throw malformed(
        { ...at, field: 'raw_data' },
        `${count * size} bytes (${count} ${dataTypeName(dataType)} values of shape [${dims.join(', ')}])`,
        `${raw.length} bytes`,
      );
    }
    values = decodeRaw(raw, dataType, count);
  } else {
    // the typed field of the data type: float_data 4, int32_data 5, int64_data 7, double_data 10
    const typed =
      dataType === ONNX_FLOAT
        ? repeatedNumbers(fields, 4, 'float', at, 'float_data')
        : dataType === ONNX_DOUBLE
          ? repeatedNumbers(fields, 10, 'double', at, 'double_data')
          : dataType === ONNX_INT32
            ? repeatedNumbers(fields, 5, 'int', at, 'int32_data')
            : repeatedNumbers(fields, 7, 'int', at, 'int64_data');
    if (typed.length !== count) {
      throw malformed(
        { ...at, field: 'data' },
        `${count} ${dataTypeName(dataType)} values (shape [${dims.join(', ')}])`,
        `${typed.length} values`,
      );
    }
    values =
      dataType === ONNX_FLOAT
        ? Float32Array.from(typed)
        : dataType === ONNX_DOUBLE
          ? Float64Array.from(typed)
          : dataType === ONNX_INT32
            ? Int32Array.from(typed)
            : BigInt64Array.from(typed, (v) => BigInt(v));
  }
  return { name, dataType, dims, values };
}

function decodeRaw(raw: Uint8Array, dataType: number, count: number): OnnxTensorValues {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dataType) {
    case ONNX_FLOAT: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case ONNX_DOUBLE: {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case ONNX_INT32: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    default: {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
      return out;
    }
  }
}

function decodeValueInfo(bytes: Uint8Array, where: InteropLocation): OnnxValueInfo {
  const fields = readFields(bytes, where);
  let name = '';
  let typeBytes: Uint8Array | undefined;
  for (const field of fields) {
    if (field.number === 1) name = fieldString(field, where, 'name');
    else if (field.number === 2) typeBytes = fieldBytes(field, where, 'type');
  }
  const at = { ...where, tensor: name };
  if (typeBytes === undefined) return { name };
  // TypeProto.tensor_type (1) → Tensor { elem_type 1, shape 2 } → TensorShapeProto { dim 1 }
  const tensorType = readFields(typeBytes, at).find((f) => f.number === 1 && f.wireType === WIRE_LENGTH);
  if (tensorType === undefined) return { name };
  let elemType: number | undefined;
  let shape: OnnxDim[] | undefined;
  for (const field of readFields(tensorType.bytes!, at)) {
    if (field.number === 1) elemType = fieldInt(field, at, 'type.tensor_type.elem_type');
    else if (field.number === 2) {
      shape = [];
      for (const dim of readFields(fieldBytes(field, at, 'type.tensor_type.shape'), at)) {
        if (dim.number !== 1) continue;
        let value: OnnxDim;
        for (const part of readFields(fieldBytes(dim, at, 'shape.dim'), at)) {
          if (part.number === 1) value = fieldInt(part, at, 'shape.dim.dim_value');
          else if (part.number === 2) value = fieldString(part, at, 'shape.dim.dim_param');
        }
        shape.push(value);
      }
    }
  }
  return { name, ...(elemType === undefined ? {} : { elemType }), ...(shape === undefined ? {} : { shape }) };
}

function decodeAttribute(bytes: Uint8Array, where: InteropLocation): OnnxAttribute {
  const fields = readFields(bytes, where);
  let name = '';
  let type = 0;
  const attribute: { -readonly [K in keyof OnnxAttribute]?: OnnxAttribute[K] } = {};
  for (const field of fields) {
    if (field.number === 1) name = fieldString(field, where, 'attribute.name');
  }
  const at = { ...where, field: `attribute ${JSON.stringify(name)}` };
  for (const field of fields) {
    switch (field.number) {
      case 20:
        type = fieldInt(field, at, 'type');
        break;
      case 2:
        attribute.f = fieldFloat(field, at, 'f');
        break;
      case 3:
        attribute.i = fieldInt(field, at, 'i');
        break;
      case 4:
        attribute.s = fieldString(field, at, 's');
        break;
      case 5:
        attribute.t = decodeTensor(fieldBytes(field, at, 't'), at);
        break;
    }
  }
  if (fields.some((f) => f.number === 7)) attribute.floats = repeatedNumbers(fields, 7, 'float', at, 'floats');
  if (fields.some((f) => f.number === 8)) attribute.ints = repeatedNumbers(fields, 8, 'int', at, 'ints');
  // IR version < 0.0.2 files may omit the type: infer it from the one field set
  if (type === 0) {
    type =
      attribute.f !== undefined ? ATTRIBUTE_FLOAT
      : attribute.i !== undefined ? ATTRIBUTE_INT
      : attribute.s !== undefined ? ATTRIBUTE_STRING
      : attribute.t !== undefined ? ATTRIBUTE_TENSOR
      : attribute.floats !== undefined ? ATTRIBUTE_FLOATS
      : attribute.ints !== undefined ? ATTRIBUTE_INTS
      : 0;
  }
  return { name, type, ...attribute };
}

function decodeNode(bytes: Uint8Array, where: InteropLocation): OnnxNode {
  const fields = readFields(bytes, where);
  let name = '';
  let opType = '';
  let domain = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const field of fields) {
    if (field.number === 3) name = fieldString(field, where, 'node.name');
  }
  const at: InteropLocation = name === '' ? where : { ...where, tensor: name };
  const attributes: OnnxAttribute[] = [];
  for (const field of fields) {
    switch (field.number) {
      case 1:
        inputs.push(fieldString(field, at, 'input'));
        break;
      case 2:
        outputs.push(fieldString(field, at, 'output'));
        break;
      case 4:
        opType = fieldString(field, at, 'op_type');
        break;
      case 7:
        domain = fieldString(field, at, 'domain');
        break;
      case 5:
        attributes.push(decodeAttribute(fieldBytes(field, at, 'attribute'), at));
        break;
    }
  }
  return { name, opType, domain, inputs, outputs, attributes };
}

function decodeGraph(bytes: Uint8Array, where: InteropLocation): OnnxGraph {
  const fields = readFields(bytes, where);
  let name = '';
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const valueInfo: OnnxValueInfo[] = [];
  for (const field of fields) {
    switch (field.number) {
      case 1:
        nodes.push(decodeNode(fieldBytes(field, where, 'graph.node'), { ...where, field: `graph.node[${nodes.length}]` }));
        break;
      case 2:
        name = fieldString(field, where, 'graph.name');
        break;
      case 5:
        initializers.push(decodeTensor(fieldBytes(field, where, 'graph.initializer'), { ...where, field: 'graph.initializer' }));
        break;
      case 15:
        throw unsupported({ ...where, field: 'graph.sparse_initializer' }, 'dense initializers', 'a sparse initializer');
      case 11:
        inputs.push(decodeValueInfo(fieldBytes(field, where, 'graph.input'), { ...where, field: 'graph.input' }));
        break;
      case 12:
        outputs.push(decodeValueInfo(fieldBytes(field, where, 'graph.output'), { ...where, field: 'graph.output' }));
        break;
      case 13:
        valueInfo.push(decodeValueInfo(fieldBytes(field, where, 'graph.value_info'), { ...where, field: 'graph.value_info' }));
        break;
    }
  }
  return { name, nodes, initializers, inputs, outputs, valueInfo };
}

/**
 * Decodes an ONNX `ModelProto`. Malformed bytes (a length past the end, a tensor whose data does
 * not match its dims, text that is not UTF-8) throw `InteropError` `INVALID_ARGUMENT`; external
 * data and sparse initializers throw `NOT_SUPPORTED`. `source` names the bytes in errors.
 */
export function decodeOnnxModel(bytes: Uint8Array, source?: string): OnnxModel {
  const where: InteropLocation = source === undefined ? {} : { file: source };
  if (!(bytes instanceof Uint8Array)) throw malformed({ ...where, field: 'bytes' }, 'a Uint8Array', typeof bytes);
  const fields = readFields(bytes, where);
  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  let docString: string | undefined;
  let graph: OnnxGraph | undefined;
  const opsetImports: OnnxOpsetImport[] = [];
  for (const field of fields) {
    switch (field.number) {
      case 1:
        irVersion = fieldInt(field, where, 'ir_version');
        break;
      case 2:
        producerName = fieldString(field, where, 'producer_name');
        break;
      case 3:
        producerVersion = fieldString(field, where, 'producer_version');
        break;
      case 6:
        docString = fieldString(field, where, 'doc_string');
        break;
      case 7:
        graph = decodeGraph(fieldBytes(field, where, 'graph'), where);
        break;
      case 8: {
        let domain = '';
        let version = 0;
        for (const part of readFields(fieldBytes(field, where, 'opset_import'), where)) {
          if (part.number === 1) domain = fieldString(part, where, 'opset_import.domain');
          else if (part.number === 2) version = fieldInt(part, where, 'opset_import.version');
        }
        opsetImports.push({ domain, version });
        break;
      }
    }
  }
  if (graph === undefined) throw malformed({ ...where, field: 'graph' }, 'a model with a graph', 'none (is this an ONNX model?)');
  if (irVersion < 3) throw malformed({ ...where, field: 'ir_version' }, 'an IR version ≥ 3', String(irVersion));
  return {
    irVersion,
    opsetImports,
    producerName,
    producerVersion,
    ...(docString === undefined ? {} : { docString }),
    graph,
  };
}

/** Decodes one `TensorProto` file (`input_0.pb` of an ONNX backend test). */
export function decodeOnnxTensor(bytes: Uint8Array, source?: string): OnnxTensor {
  return decodeTensor(bytes, source === undefined ? {} : { file: source });
}

// ---------------------------------------------------------------------------------------------
// encoding

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  const values = t.values;
  if (values === undefined) return;
  const size = ELEMENT_BYTES[t.dataType]!;
  const raw = new Uint8Array(values.length * size);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) {
    if (values instanceof Float32Array) view.setFloat32(4 * i, values[i]!, true);
    else if (values instanceof Float64Array) view.setFloat64(8 * i, values[i]!, true);
    else if (values instanceof Int32Array) view.setInt32(4 * i, values[i]!, true);
    else view.setBigInt64(8 * i, values[i]!, true);
  }
  w.bytes(9, raw);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  if (v.elemType === undefined) return;
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType!);
      if (v.shape === undefined) return;
      tensor.message(2, (shape) => {
        for (const dim of v.shape!) {
          shape.message(1, (d) => {
            if (typeof dim === 'number') d.int(1, dim);
            else if (typeof dim === 'string') d.string(2, dim);
          });
        }
      });
    }),
  );
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) w.message(5, (t) => writeTensor(t, a.t!));
  for (const f of a.floats ?? []) w.float(7, f);
  if (a.ints !== undefined) w.packedInts(8, a.ints);
  w.int(20, a.type);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  if (n.name !== '') w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, (m) => writeAttribute(m, a));
  if (n.domain !== '') w.string(7, n.domain);
}

/** Encodes `model` as ONNX protobuf bytes (tensor values as little-endian `raw_data`). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  if (model.producerName !== '') w.string(2, model.producerName);
  if (model.producerVersion !== '') w.string(3, model.producerVersion);
  if (model.docString !== undefined) w.string(6, model.docString);
  w.message(7, (g) => {
    for (const n of model.graph.nodes) g.message(1, (m) => writeNode(m, n));
    g.string(2, model.graph.name);
    for (const t of model.graph.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of model.graph.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of model.graph.outputs) g.message(12, (m) => writeValueInfo(m, v));
    for (const v of model.graph.valueInfo) g.message(13, (m) => writeValueInfo(m, v));
  });
  for (const o of model.opsetImports) {
    w.message(8, (m) => {
      if (o.domain !== '') m.string(1, o.domain);
      m.int(2, o.version);
    });
  }
  return w.finish();
}

/** Encodes one tensor as a `TensorProto` file (the `input_K.pb` of an ONNX backend test). */
export function encodeOnnxTensor(tensor: OnnxTensor): Uint8Array {
  const w = new ProtoWriter();
  writeTensor(w, tensor);
  return w.finish();
}


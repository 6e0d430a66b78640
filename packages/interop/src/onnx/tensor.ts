import { MAX_ELEMENTS } from '@batchnorm/core';
import { malformed, unsupported, type InteropLocation } from '../errors.js';
import { dataTypeName, ONNX_DOUBLE, ONNX_FLOAT, ONNX_INT32, ONNX_INT64, type OnnxTensor, type OnnxTensorValues } from './model.js';
import { fieldBytes, fieldInt, fieldString, ProtoWriter, readFields, repeatedNumbers } from './protobuf.js';

/** ONNX `TensorProto` to and from bytes: the dims checked before anything is allocated. */

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
export function decodeTensor(bytes: Uint8Array, where: InteropLocation): OnnxTensor {
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

/** Decodes one `TensorProto` file (`input_0.pb` of an ONNX backend test). */
export function decodeOnnxTensor(bytes: Uint8Array, source?: string): OnnxTensor {
  return decodeTensor(bytes, source === undefined ? {} : { file: source });
}

export function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
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

/** Encodes one tensor as a `TensorProto` file (the `input_K.pb` of an ONNX backend test). */
export function encodeOnnxTensor(tensor: OnnxTensor): Uint8Array {
  const w = new ProtoWriter();
  writeTensor(w, tensor);
  return w.finish();
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../__tests__/helpers.js';
import { InteropError } from '../errors.js';
import { decodeOnnxModel } from './decode.js';
import { encodeOnnxModel } from './encode.js';
import { decodeOnnxTensor, encodeOnnxTensor } from './tensor.js';
import {
  ONNX_DOUBLE,
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxModel,
} from './model.js';
import { ProtoWriter } from './protobuf.js';

const fixture = (test: string, file: string) => new Uint8Array(readFileSync(join(FIXTURES, 'onnx-tests', test, file)));

function rejection(run: () => unknown): InteropError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InteropError);
    return error as InteropError;
  }
  throw new Error('expected a rejection');
}

describe('ONNX protobuf decoding', () => {
  it('decodes a model exported by PyTorch 0.3 (ONNX\'s own test data)', () => {
    const model = decodeOnnxModel(fixture('test_BatchNorm2d_eval', 'model.onnx'));
    expect(model.irVersion).toBe(3);
    expect(model.opsetImports).toEqual([{ domain: '', version: 6 }]);
    expect(model.producerName).toBe('pytorch');
    const [node] = model.graph.nodes;
    expect(node).toMatchObject({ opType: 'BatchNormalization', inputs: ['0', '1', '2', '3', '4'], outputs: ['5'] });
    expect(node!.attributes.map((a) => a.name).sort()).toEqual(['epsilon', 'is_test', 'momentum']);
    expect(model.graph.inputs[0]).toEqual({ name: '0', elemType: ONNX_FLOAT, shape: [2, 3, 6, 6] });
    expect(model.graph.initializers.map((t) => [t.name, t.dims])).toEqual([['1', [3]], ['2', [3]], ['3', [3]], ['4', [3]]]);
  });

  it('decodes TensorProto files (raw_data) and typed fields (float_data, double_data, int64_data)', () => {
    const input = decodeOnnxTensor(fixture('test_BatchNorm2d_eval', 'test_data_set_0/input_0.pb'));
    expect(input.dims).toEqual([2, 3, 6, 6]);
    expect(input.values).toBeInstanceOf(Float32Array);
    expect(input.values!.length).toBe(216);
    const typed = (field: number, dataType: number, values: number[], kind: 'float' | 'double' | 'int') => {
      const w = new ProtoWriter().packedInts(1, [values.length]).int(2, dataType).string(8, 't');
      const body = new Uint8Array(values.length * (kind === 'float' ? 4 : 8));
      const view = new DataView(body.buffer);
      if (kind === 'int') return decodeOnnxTensor(w.packedInts(field, values).finish());
      values.forEach((v, i) => (kind === 'float' ? view.setFloat32(4 * i, v, true) : view.setFloat64(8 * i, v, true)));
      return decodeOnnxTensor(w.bytes(field, body).finish());
    };
    expect(Array.from(typed(4, ONNX_FLOAT, [1.5, -2], 'float').values as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(typed(10, ONNX_DOUBLE, [Math.PI], 'double').values as Float64Array)).toEqual([Math.PI]);
    expect(typed(7, ONNX_INT64, [3, -4], 'int').values).toEqual(BigInt64Array.of(3n, -4n));
  });

  it('encodes what it decodes', () => {
    const bytes = fixture('test_ort_batchnorm_training_NCL_opset14', 'model.onnx');
    const model = decodeOnnxModel(bytes);
    const again: OnnxModel = decodeOnnxModel(encodeOnnxModel(model));
    expect(again).toEqual(model);
    const tensor = decodeOnnxTensor(fixture('test_ort_batchnorm_training_NCL_opset14', 'test_data_set_0/input_0.pb'));
    expect(decodeOnnxTensor(encodeOnnxTensor(tensor))).toEqual(tensor);
  });
});

describe('ONNX protobuf: malformed bytes are typed errors, found before allocating', () => {
  const good = fixture('test_BatchNorm2d_eval', 'model.onnx');

  it('a truncated model', () => {
    const e = rejection(() => decodeOnnxModel(good.subarray(0, good.length - 10), 'm.onnx'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.file).toBe('m.onnx');
    expect(e.expected).toBe('a well-formed protobuf message');
  });

  it('a length past the end (a lying length), without allocating it', () => {
    // field 7 (graph), length 2^40
    const lying = Uint8Array.of(0x08, 0x03, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00);
    expect(rejection(() => decodeOnnxModel(lying)).received).toContain('claiming 1099511627776 bytes');
  });

  it('a varint that never ends, a wire type ONNX does not use', () => {
    expect(rejection(() => decodeOnnxModel(Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).received).toContain(
      'longer than 10 bytes',
    );
    expect(rejection(() => decodeOnnxModel(Uint8Array.of(0x0b))).received).toContain('wire type 3');
  });

  it('a tensor whose raw_data does not match its dims and type, naming it', () => {
    const bad = new ProtoWriter().packedInts(1, [4]).int(2, ONNX_FLOAT).string(8, 'scale').bytes(9, new Uint8Array(12)).finish();
    const e = rejection(() => decodeOnnxTensor(bad, 'input_1.pb'));
    expect(e).toMatchObject({ file: 'input_1.pb', tensor: 'scale', field: 'raw_data' });
    expect(e.expected).toContain('16 bytes');
    const huge = new ProtoWriter().packedInts(1, [2 ** 40, 2 ** 40]).int(2, ONNX_FLOAT).bytes(9, new Uint8Array(4)).finish();
    expect(rejection(() => decodeOnnxTensor(huge)).field).toBe('dims');
  });

  it('external data and unknown data types: NOT_SUPPORTED / kept undecoded', () => {
    const external = new ProtoWriter().packedInts(1, [1]).int(2, ONNX_FLOAT).string(8, 'w').int(14, 1).finish();
    expect(rejection(() => decodeOnnxTensor(external))).toMatchObject({ code: 'NOT_SUPPORTED', field: 'data_location' });
    const half = new ProtoWriter().packedInts(1, [2]).int(2, 10).bytes(9, new Uint8Array(4)).finish();
    expect(decodeOnnxTensor(half).values).toBeUndefined();
  });

  it('bytes that are not a model', () => {
    expect(rejection(() => decodeOnnxModel(new TextEncoder().encode('{"not": "onnx"}'))).code).toBe('INVALID_ARGUMENT');
    expect(rejection(() => decodeOnnxModel(new ProtoWriter().int(1, 7).finish())).field).toBe('graph');
  });
});

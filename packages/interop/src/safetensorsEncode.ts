import { BatchNormError, describeValue, MAX_ELEMENTS } from '@batchnorm/core';

/** What `encodeSafetensors` writes for one tensor. */
export interface SafetensorsTensorInput {
  readonly dtype: 'F32' | 'F64' | 'I32' | 'I64';
  readonly shape: readonly number[];
  /** Row-major values; `I64` also takes a BigInt64Array. */
  readonly data: ArrayLike<number> | BigInt64Array;
}

/** Tensors to write, by name, with the file's metadata. Merge several with object spread. */
export interface SafetensorsContent {
  readonly tensors: Readonly<Record<string, SafetensorsTensorInput>>;
  readonly metadata?: Readonly<Record<string, string>>;
}

const encoder = new TextEncoder();

/**
 * Encodes tensors as a safetensors file: tensors in the given order, the JSON header padded
 * with spaces to a multiple of 8 bytes (so every tensor starts 8-byte aligned, as the reference
 * writer does). Bad input throws `BatchNormError` naming the tensor.
 */
export function encodeSafetensors(content: SafetensorsContent): Uint8Array {
  if (typeof content !== 'object' || content === null || typeof content.tensors !== 'object' || content.tensors === null) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'content',
      expected: 'an object { tensors: { name: { dtype, shape, data } }, metadata? }',
      received: describeValue(content),
    });
  }
  const header: Record<string, unknown> = {};
  if (content.metadata !== undefined) {
    for (const [key, value] of Object.entries(content.metadata)) {
      if (typeof value !== 'string') {
        throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: `content.metadata.${key}`, expected: 'a string', received: describeValue(value) });
      }
    }
    header['__metadata__'] = content.metadata;
  }
  const tensors = Object.entries(content.tensors);
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const argument = `content.tensors[${JSON.stringify(name)}]`;
    if (name === '__metadata__' || name === '') {
      throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'content.tensors', expected: 'tensor names other than "" and "__metadata__"', received: JSON.stringify(name) });
    }
    const size = tensor?.dtype === 'F32' || tensor?.dtype === 'I32' ? 4 : tensor?.dtype === 'F64' || tensor?.dtype === 'I64' ? 8 : 0;
    if (size === 0) {
      throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: `${argument}.dtype`, expected: '"F32", "F64", "I32" or "I64"', received: describeValue(tensor?.dtype) });
    }
    const count = elementCountOf(tensor.shape, `${argument}.shape`);
    const length = tensor.data?.length;
    if (length !== count) {
      throw new BatchNormError({
        code: 'SHAPE_MISMATCH',
        argument: `${argument}.data`,
        expected: `${count} values (shape [${tensor.shape.join(', ')}])`,
        received: describeValue(tensor.data),
      });
    }
    header[name] = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + count * size] };
    offset += count * size;
  }
  let json = encoder.encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const [name, tensor] of tensors) {
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      switch (tensor.dtype) {
        case 'F32':
          view.setFloat32(o, Number(v), true);
          o += 4;
          break;
        case 'F64':
          view.setFloat64(o, Number(v), true);
          o += 8;
          break;
        case 'I32':
          view.setInt32(o, checkedInteger(v, name, i, 2 ** 31), true);
          o += 4;
          break;
        case 'I64':
          view.setBigInt64(o, typeof v === 'bigint' ? v : BigInt(checkedInteger(v, name, i, 2 ** 63)), true);
          o += 8;
          break;
      }
    }
  }
  return out;
}

function checkedInteger(v: number | bigint, name: string, i: number, limit: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < -limit || n >= limit) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: `content.tensors[${JSON.stringify(name)}].data[${i}]`,
      expected: `an integer in [-${limit}, ${limit})`,
      received: describeValue(n),
    });
  }
  return n;
}

function elementCountOf(shape: unknown, argument: string): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected: 'an array of integers ≥ 0', received: describeValue(shape) });
  }
  let count = 1;
  for (const d of shape as number[]) count *= d;
  if (count > MAX_ELEMENTS) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected: `at most ${MAX_ELEMENTS} elements`, received: `[${shape.join(', ')}]` });
  }
  return count;
}

import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './__tests__/helpers.js';
import { InteropError } from './errors.js';
import { readSafetensorsFile, writeSafetensorsFile } from './node.js';
import {
  decodeSafetensors,
  safetensorsValues,
  SAFETENSORS_MAX_HEADER_BYTES,
  type SafetensorsFile,
} from './safetensors.js';
import { encodeSafetensors } from './safetensorsEncode.js';

/** A safetensors file from its parts: a header (object or raw text), data, and an optional lying length. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

function rejection(bytes: Uint8Array, options = {}): InteropError {
  try {
    decodeSafetensors(bytes, { source: 'bad.safetensors', ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(InteropError);
    return error as InteropError;
  }
  throw new Error('expected a rejection');
}

describe('safetensors encode/decode', () => {
  it('round-trips F32, F64, I32 and I64 (scalar shape []) with metadata', () => {
    const bytes = encodeSafetensors({
      tensors: {
        a: { dtype: 'F32', shape: [2, 2], data: [1.5, -2, 3.25, 0] },
        b: { dtype: 'F64', shape: [3], data: [Math.PI, -1e-300, 1e300] },
        n: { dtype: 'I64', shape: [], data: [123456789012] },
        i: { dtype: 'I32', shape: [2], data: [-7, 2 ** 31 - 1] },
      },
      metadata: { format: 'pt' },
    });
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()]).toEqual(['a', 'b', 'n', 'i']);
    expect(Array.from(safetensorsValues(file.tensors.get('a')!) as Float32Array)).toEqual([1.5, -2, 3.25, 0]);
    expect(Array.from(safetensorsValues(file.tensors.get('b')!) as Float64Array)).toEqual([Math.PI, -1e-300, 1e300]);
    expect(file.tensors.get('n')!.shape).toEqual([]);
    expect(safetensorsValues(file.tensors.get('n')!)).toEqual(BigInt64Array.of(123456789012n));
    expect(Array.from(safetensorsValues(file.tensors.get('i')!) as Int32Array)).toEqual([-7, 2 ** 31 - 1]);
  });

  it('pads the header with spaces to 8 bytes, so tensors start aligned, as the reference writer does', () => {
    const bytes = encodeSafetensors({ tensors: { x: { dtype: 'F64', shape: [1], data: [1] } } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(bytes[8 + n - 1]).toBe(0x20);
  });

  it('reads files written by safetensors.torch (the committed PyTorch fixtures)', () => {
    const file = decodeSafetensors(new Uint8Array(readFileSync(join(FIXTURES, 'pytorch', 'bn2d.safetensors'))));
    expect(Object.fromEntries([...file.tensors].map(([k, t]) => [k, `${t.dtype} [${t.shape.join(',')}]`]))).toEqual({
      weight: 'F32 [3]',
      bias: 'F32 [3]',
      running_mean: 'F32 [3]',
      running_var: 'F32 [3]',
      num_batches_tracked: 'I64 []',
    });
  });

  it('refuses bad tensors to write, naming them', () => {
    expect(() => encodeSafetensors({ tensors: { w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } } })).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', argument: 'content.tensors["w"].data' }),
    );
    expect(() => encodeSafetensors({ tensors: { w: { dtype: 'F16' as never, shape: [1], data: [1] } } })).toThrow(
      expect.objectContaining({ argument: 'content.tensors["w"].dtype' }),
    );
    expect(() => encodeSafetensors({ tensors: { n: { dtype: 'I64', shape: [], data: [0.5] } } })).toThrow(
      expect.objectContaining({ argument: 'content.tensors["n"].data[0]' }),
    );
    expect(() => encodeSafetensors({ tensors: {}, metadata: { a: 1 as never } })).toThrow(expect.objectContaining({ argument: 'content.metadata.a' }));
  });
});

describe('safetensors: malformed files are typed errors, found before anything is allocated', () => {
  const good = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('a lying header size (longer than the file)', () => {
    const e = rejection(raw(good, f32(1, 2), 1000n));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.file).toBe('bad.safetensors');
    expect(e.field).toBe('header length');
    expect(e.message).toContain('lying header size');
  });

  it('a header past the size limit, refused before it is decoded', () => {
    const e = rejection(raw(good, f32(1, 2), 2n ** 62n));
    expect(e.field).toBe('header length');
    expect(e.expected).toContain(String(SAFETENSORS_MAX_HEADER_BYTES));
    expect(rejection(raw(good, f32(1, 2)), { maxHeaderBytes: 16 }).expected).toContain('at most 16 bytes');
  });

  it('a file shorter than the 8-byte length', () => {
    expect(rejection(new Uint8Array(5)).field).toBe('header length');
  });

  it('offsets out of range (a truncated tensor)', () => {
    const e = rejection(raw(good, f32(1)));
    expect(e.tensor).toBe('x');
    expect(e.field).toBe('data_offsets');
    expect(e.message).toContain('truncated');
  });

  it('overlapping offsets, and gaps', () => {
    const overlap = rejection(
      raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(1, 2, 3)),
    );
    expect(overlap.tensor).toBe('b');
    expect(overlap.expected).toContain('not overlapping');
    const gap = rejection(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(1, 2)));
    expect(gap.expected).toContain('no gaps');
    const tail = rejection(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1, 2)));
    expect(tail.expected).toContain('covering the 8 bytes');
  });

  it('a dtype and shape that do not match the byte length, including a huge shape, without allocating it', () => {
    const wrong = rejection(raw({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, f32(1, 2)));
    expect(wrong.tensor).toBe('x');
    expect(wrong.expected).toContain('F64 of shape [2]');
    const huge = rejection(raw({ x: { dtype: 'F32', shape: [1e15, 1e15], data_offsets: [0, 8] } }, f32(1, 2)));
    expect(huge.field).toBe('data_offsets');
  });

  it('an unknown dtype, a bad shape, bad offsets, bad metadata', () => {
    expect(rejection(raw({ x: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, f32(1, 2))).field).toBe('dtype');
    expect(rejection(raw({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32(1, 2))).field).toBe('shape');
    expect(rejection(raw({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, f32(1, 2))).field).toBe('data_offsets');
    expect(rejection(raw({ __metadata__: { a: 1 } })).field).toBe('__metadata__.a');
  });

  it('a header that is not UTF-8 JSON object text', () => {
    expect(rejection(raw('[1, 2]')).field).toBe('header');
    expect(rejection(raw('{"x": ')).field).toBe('header');
    const bytes = raw('{"x": 1}');
    bytes[9] = 0xff;
    expect(rejection(bytes).expected).toBe('UTF-8 JSON');
  });

  it('wrong dtype for values: F16 has no typed array here (NOT_SUPPORTED)', () => {
    const file = decodeSafetensors(raw({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)));
    expect(() => safetensorsValues(file.tensors.get('h')!, 'h')).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', tensor: 'h', field: 'dtype' }));
  });
});

describe('safetensors files (./node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'interop-safetensors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const content = { tensors: { w: { dtype: 'F32' as const, shape: [3], data: [1, 2, 3] } } };

  it('writes and reads back', async () => {
    const path = join(dir, 'w.safetensors');
    await writeSafetensorsFile(path, content);
    const file: SafetensorsFile = await readSafetensorsFile(path);
    expect(Array.from(safetensorsValues(file.tensors.get('w')!) as Float32Array)).toEqual([1, 2, 3]);
  });

  it('rejects a lying header size from the first 8 bytes, naming the file', async () => {
    const path = join(dir, 'lying.safetensors');
    writeFileSync(path, raw({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, f32(1, 2, 3), 2n ** 40n));
    await expect(readSafetensorsFile(path)).rejects.toMatchObject({ name: 'BatchNormError', file: path, field: 'header length' });
  });

  it('rejects a truncated file after the header, before reading the data', async () => {
    const path = join(dir, 'truncated.safetensors');
    const bytes = encodeSafetensors(content);
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    await expect(readSafetensorsFile(path)).rejects.toMatchObject({ file: path, tensor: 'w', field: 'data_offsets' });
  });

  it('names a missing file', async () => {
    await expect(readSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      received: 'no such file or directory',
    });
  });

  it('writes atomically: a failed write leaves the old file and no temporary file', async () => {
    const path = join(dir, 'kept.safetensors');
    await writeSafetensorsFile(path, content);
    const before = readFileSync(path);
    await expect(
      writeSafetensorsFile(path, { tensors: { w: { dtype: 'F32', shape: [3], data: [1, 2] } } }),
    ).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    expect(readFileSync(path)).toEqual(before);
    // the rename fails (the target is a non-empty directory): the temporary file is removed
    const target = join(dir, 'a-directory');
    mkdirSync(join(target, 'inside'), { recursive: true });
    await expect(writeSafetensorsFile(target, content)).rejects.toThrow();
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(target)).toEqual(['inside']);
  });
});

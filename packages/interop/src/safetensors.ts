import { BatchNormError, describeValue } from '@batchnorm/core';
import { malformed, unsupported, type InteropLocation } from './errors.js';

/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length `N`, `N` bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__": { string: string } }`, then the tensors' little-endian bytes, offsets
 * relative to the end of the header. Everything is validated before anything is allocated,
 * with the rules of the reference implementation: offsets in range, in order, neither
 * overlapping nor leaving gaps, covering the data exactly; each tensor's byte length equal to
 * its shape's element count times its dtype's size.
 */

/** Every dtype of the format, with its size in bytes. */
export const SAFETENSORS_DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** The largest JSON header read, as the reference implementation's limit: 100 MB. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The tensor's little-endian bytes: a view into the decoded buffer, not a copy. */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  /** In file order (by offset). */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
}

export interface SafetensorsHeaderEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte offsets into the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly metadata: Readonly<Record<string, string>>;
  /** Sorted by `begin`. */
  readonly entries: ReadonlyMap<string, SafetensorsHeaderEntry>;
}

export interface SafetensorsReadOptions {
  /** Refuse a JSON header longer than this (default {@link SAFETENSORS_MAX_HEADER_BYTES}). */
  readonly maxHeaderBytes?: number;
  /** Names the bytes in errors (a file path). */
  readonly source?: string;
}

function at(source: string | undefined, rest: InteropLocation = {}): InteropLocation {
  return source === undefined ? rest : { file: source, ...rest };
}

function maxHeaderOf(options: SafetensorsReadOptions): number {
  const max = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 2) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'options.maxHeaderBytes',
      expected: 'an integer ≥ 2',
      received: describeValue(max),
    });
  }
  return max;
}

/**
 * The JSON header's length from a file's first 8 bytes, checked against the file's length and
 * the header limit, so a lying length is found before the header is read.
 */
export function safetensorsHeaderLength(
  first8: Uint8Array,
  fileLength: number,
  options: SafetensorsReadOptions = {},
): number {
  const where = at(options.source, { field: 'header length' });
  const max = maxHeaderOf(options);
  if (first8.length < 8 || fileLength < 8) {
    throw malformed(where, 'a file of at least 8 bytes (the header length)', `${Math.min(first8.length, fileLength)} bytes`);
  }
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(max)) {
    throw malformed(where, `a JSON header of at most ${max} bytes`, `${length} bytes`, 'Pass maxHeaderBytes to read larger headers.');
  }
  const n = Number(length);
  if (8 + n > fileLength) {
    throw malformed(where, `a header that fits the file (${fileLength - 8} bytes after the length)`, `${n} bytes (a lying header size, or a truncated file)`);
  }
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates a JSON header against `dataLength`, the bytes that follow it. Throws
 * `InteropError` naming the file, tensor and field at fault.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLength: number,
  options: SafetensorsReadOptions = {},
): SafetensorsHeader {
  const source = options.source;
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    throw malformed(at(source, { field: 'header' }), 'UTF-8 JSON', 'bytes that are not UTF-8');
  }
  if (!text.startsWith('{')) {
    throw malformed(at(source, { field: 'header' }), 'a JSON object starting with "{"', describeValue(text.slice(0, 16)));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw malformed(at(source, { field: 'header' }), 'valid JSON', (error as Error).message);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw malformed(at(source, { field: 'header' }), 'a JSON object', describeValue(json));
  }
  const metadata: Record<string, string> = {};
  const entries: [string, SafetensorsHeaderEntry][] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw malformed(at(source, { field: '__metadata__' }), 'an object of strings', describeValue(value));
      }
      for (const [key, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw malformed(at(source, { field: `__metadata__.${key}` }), 'a string', describeValue(v));
        metadata[key] = v;
      }
      continue;
    }
    entries.push([name, headerEntry(name, value, dataLength, source)]);
  }
  entries.sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let position = 0;
  let previous: string | undefined;
  for (const [name, entry] of entries) {
    if (entry.begin !== position) {
      const where = at(source, { tensor: name, field: 'data_offsets' });
      throw entry.begin < position
        ? malformed(where, `a range not overlapping the one of ${JSON.stringify(previous)} (which ends at ${position})`, `[${entry.begin}, ${entry.end}]`)
        : malformed(where, `a range starting at ${position}, where the previous tensor ends (no gaps)`, `[${entry.begin}, ${entry.end}]`);
    }
    position = entry.end;
    previous = name;
  }
  if (position !== dataLength) {
    throw malformed(
      at(source, { field: 'data_offsets' }),
      `tensors covering the ${dataLength} bytes after the header`,
      `tensors ending at byte ${position}`,
    );
  }
  return { metadata, entries: new Map(entries) };
}

function headerEntry(name: string, value: unknown, dataLength: number, source: string | undefined): SafetensorsHeaderEntry {
  const where = (field: string) => at(source, { tensor: name, field });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(where('entry'), 'an object { dtype, shape, data_offsets }', describeValue(value));
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) {
    throw malformed(where('dtype'), `one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`, describeValue(dtype));
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw malformed(where('shape'), 'an array of integers ≥ 0', describeValue(shape));
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw malformed(where('data_offsets'), '[begin, end] with 0 ≤ begin ≤ end', describeValue(offsets));
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw malformed(
      where('data_offsets'),
      `a range within the ${dataLength} bytes after the header`,
      `[${begin}, ${end}] (a truncated file, or offsets out of range)`,
    );
  }
  const size = SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDtype];
  // the element count, stopping as soon as it exceeds what the range can hold (no overflow)
  let count = (shape as number[]).includes(0) ? 0 : 1;
  for (const d of shape as number[]) {
    if (count === 0 || count * size > end - begin) break;
    count *= d;
  }
  if (count * size !== end - begin) {
    throw malformed(
      where('data_offsets'),
      `${count * size <= end - begin ? count * size : 'more than ' + (end - begin)} bytes (${dtype} of shape [${(shape as number[]).join(', ')}])`,
      `[${begin}, ${end}], ${end - begin} bytes`,
    );
  }
  return { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

/** Decodes a whole safetensors buffer; tensors are views into `bytes`. */
export function decodeSafetensors(bytes: Uint8Array, options: SafetensorsReadOptions = {}): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'bytes', expected: 'a Uint8Array', received: describeValue(bytes) });
  }
  const n = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length, options);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, options);
  return safetensorsFromParts(header, bytes.subarray(8 + n));
}

/** A file from its validated header and its data section. */
export function safetensorsFromParts(header: SafetensorsHeader, data: Uint8Array): SafetensorsFile {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, { dtype, shape, begin, end }] of header.entries) {
    tensors.set(name, { dtype, shape, bytes: data.subarray(begin, end) });
  }
  return { metadata: header.metadata, tensors };
}

/** Values of a tensor whose dtype a typed array holds exactly (floats and 32/64-bit integers). */
export type SafetensorsValues = Float32Array | Float64Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/**
 * A tensor's values as a typed array (a copy, aligned, in host order). `F16`, `BF16` and the
 * 8-bit floats have no typed array here: `NOT_SUPPORTED`.
 */
export function safetensorsValues(tensor: SafetensorsTensor, name = 'tensor', source?: string): SafetensorsValues {
  const { dtype, bytes } = tensor;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / SAFETENSORS_DTYPE_BYTES[dtype];
  const fill = <A extends { [i: number]: number | bigint }>(out: A, get: (i: number) => number | bigint): A => {
    for (let i = 0; i < count; i++) out[i] = get(i) as never;
    return out;
  };
  switch (dtype) {
    case 'F32': return fill(new Float32Array(count), (i) => view.getFloat32(4 * i, true));
    case 'F64': return fill(new Float64Array(count), (i) => view.getFloat64(8 * i, true));
    case 'I32': return fill(new Int32Array(count), (i) => view.getInt32(4 * i, true));
    case 'U32': return fill(new Uint32Array(count), (i) => view.getUint32(4 * i, true));
    case 'I64': return fill(new BigInt64Array(count), (i) => view.getBigInt64(8 * i, true));
    case 'U64': return fill(new BigUint64Array(count), (i) => view.getBigUint64(8 * i, true));
    case 'I16': return fill(new Int16Array(count), (i) => view.getInt16(2 * i, true));
    case 'U16': return fill(new Uint16Array(count), (i) => view.getUint16(2 * i, true));
    case 'I8': return fill(new Int8Array(count), (i) => view.getInt8(i));
    case 'U8':
    case 'BOOL': return Uint8Array.from(bytes);
    default:
      throw unsupported(at(source, { tensor: name, field: 'dtype' }), 'F32, F64 or an integer dtype', dtype);
  }
}

import { malformed, type InteropLocation } from '../errors.js';

/**
 * The protobuf wire format, the part ONNX uses: varints, 32/64-bit fixed values and
 * length-delimited fields (messages, strings, bytes, packed arrays). Every length is checked
 * against the bytes that remain before anything is sliced or allocated, so a lying length is a
 * typed error, not a RangeError or a huge allocation.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message: a varint (as bigint), a fixed value's bytes, or a length-delimited span. */
export interface ProtoField {
  readonly number: number;
  readonly wireType: number;
  /** Varints. */
  readonly varint?: bigint;
  /** Fixed32, fixed64 and length-delimited fields: the bytes, a view into the input (no copy). */
  readonly bytes?: Uint8Array;
}

/** Splits a message's bytes into fields; `where` names the message for errors. */
export function readFields(bytes: Uint8Array, where: InteropLocation): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  const bad = (what: string): never => {
    throw malformed(where, 'a well-formed protobuf message', `${what} at byte ${pos} of ${bytes.length}`);
  };
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) bad('a varint cut off by the end of the message');
      const byte = bytes[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    return bad('a varint longer than 10 bytes');
  };
  while (pos < bytes.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number < 1 || number > 536870911) bad(`field number ${number}`);
    switch (wireType) {
      case WIRE_VARINT:
        fields.push({ number, wireType, varint: varint() });
        break;
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wireType === WIRE_FIXED64 ? 8 : 4;
        if (pos + size > bytes.length) bad(`a ${size * 8}-bit value of field ${number} cut off`);
        fields.push({ number, wireType, bytes: bytes.subarray(pos, pos + size) });
        pos += size;
        break;
      }
      case WIRE_LENGTH: {
        const length = varint();
        if (length > BigInt(bytes.length - pos)) {
          bad(`field ${number} claiming ${length} bytes where ${bytes.length - pos} remain`);
        }
        const end = pos + Number(length);
        fields.push({ number, wireType, bytes: bytes.subarray(pos, end) });
        pos = end;
        break;
      }
      default:
        bad(`wire type ${wireType} (groups are not used by ONNX)`);
    }
  }
  return fields;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function expectWire(field: ProtoField, wireType: number, where: InteropLocation, what: string): void {
  if (field.wireType !== wireType) {
    throw malformed(where, `${what} (field ${field.number}) of wire type ${wireType}`, `wire type ${field.wireType}`);
  }
}

export function fieldString(field: ProtoField, where: InteropLocation, what: string): string {
  expectWire(field, WIRE_LENGTH, where, what);
  try {
    return utf8.decode(field.bytes!);
  } catch {
    throw malformed(where, `${what}: UTF-8 text`, 'bytes that are not UTF-8');
  }
}

export function fieldBytes(field: ProtoField, where: InteropLocation, what: string): Uint8Array {
  expectWire(field, WIRE_LENGTH, where, what);
  return field.bytes!;
}

/** An int64 or int32 varint as a safe integer (negative values are two's complement). */
export function fieldInt(field: ProtoField, where: InteropLocation, what: string): number {
  expectWire(field, WIRE_VARINT, where, what);
  const value = BigInt.asIntN(64, field.varint!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw malformed(where, `${what}: an integer within ±2^53`, String(value));
  }
  return Number(value);
}

export function fieldFloat(field: ProtoField, where: InteropLocation, what: string): number {
  expectWire(field, WIRE_FIXED32, where, what);
  const b = field.bytes!;
  return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
}

/**
 * A repeated scalar field, packed (one length-delimited run) or not (one field per value), as
 * protobuf parsers must accept both. `kind` picks the element encoding.
 */
export function repeatedNumbers(
  fields: readonly ProtoField[],
  number: number,
  kind: 'float' | 'double' | 'int',
  where: InteropLocation,
  what: string,
): number[] {
  const out: number[] = [];
  for (const field of fields) {
    if (field.number !== number) continue;
    if (kind === 'int') {
      if (field.wireType === WIRE_VARINT) {
        out.push(fieldInt(field, where, what));
        continue;
      }
      expectWire(field, WIRE_LENGTH, where, what);
      for (const value of readFields(packedVarintsAsFields(field.bytes!), where)) out.push(fieldInt(value, where, what));
      continue;
    }
    const size = kind === 'float' ? 4 : 8;
    const wire = kind === 'float' ? WIRE_FIXED32 : WIRE_FIXED64;
    const b = field.wireType === wire ? field.bytes! : fieldBytes(field, where, what);
    if (b.length % size !== 0) {
      throw malformed(where, `${what}: a packed run of ${size}-byte values`, `${b.length} bytes`);
    }
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < b.length; i += size) out.push(size === 4 ? view.getFloat32(i, true) : view.getFloat64(i, true));
  }
  return out;
}

/** Packed varints re-keyed as field 1 varints, so `readFields` bounds-checks them. */
function packedVarintsAsFields(bytes: Uint8Array): Uint8Array {
  // each value gets a one-byte key (field 1, wire type 0): the count of values is at most the length
  const out = new Uint8Array(bytes.length * 2);
  let o = 0;
  let start = true;
  for (const byte of bytes) {
    if (start) out[o++] = 0x08;
    out[o++] = byte;
    start = (byte & 0x80) === 0;
  }
  return out.subarray(0, o);
}

/** Builds a message: fields appended in order, nested messages encoded first. */
export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #varintBytes(value: bigint): Uint8Array {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    return Uint8Array.from(out);
  }

  #key(number: number, wireType: number): void {
    this.#push(this.#varintBytes(BigInt(number * 8 + wireType)));
  }

  int(number: number, value: number | bigint): this {
    this.#key(number, WIRE_VARINT);
    this.#push(this.#varintBytes(BigInt(value)));
    return this;
  }

  float(number: number, value: number): this {
    this.#key(number, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(number: number, value: Uint8Array): this {
    this.#key(number, WIRE_LENGTH);
    this.#push(this.#varintBytes(BigInt(value.length)));
    this.#push(value);
    return this;
  }

  string(number: number, value: string): this {
    return this.bytes(number, utf8Encoder.encode(value));
  }

  message(number: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(number, inner.finish());
  }

  packedInts(number: number, values: readonly number[]): this {
    const inner = values.map((v) => this.#varintBytes(BigInt(v)));
    const total = inner.reduce((sum, b) => sum + b.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const b of inner) {
      out.set(b, o);
      o += b.length;
    }
    return this.bytes(number, out);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let o = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, o);
      o += chunk.length;
    }
    return out;
  }
}

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { BatchNormError } from '@batchnorm/core';

/** IDX magic numbers: two zero bytes, type 0x08 (unsigned byte), then the number of dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/** A data file that is missing, truncated or not the IDX file it should be. */
export class IdxFormatError extends BatchNormError {
  /** The file at fault, as given. */
  readonly file: string;

  constructor(file: string, expected: string, received: string, options?: { cause?: unknown }) {
    super({ code: 'INVALID_ARGUMENT', argument: `data file ${file}`, expected, received }, options);
    this.file = file;
  }
}

export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** `count·rows·cols` pixels, row-major, one byte each (0–255). */
  readonly pixels: Uint8Array;
}

export interface IdxLabels {
  readonly count: number;
  /** One label per item, each in 0..9. */
  readonly labels: Uint8Array;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Returns the raw IDX bytes, gunzipping when the content (not the name) says gzip. */
export function decompressIfGzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      return gunzipSync(bytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new IdxFormatError(file, 'a valid gzip stream', `corrupt gzip data (${reason})`, {
        cause: error,
      });
    }
  }
  return bytes;
}

function header(bytes: Uint8Array, file: string, words: number, kind: string): number[] {
  if (bytes.length < words * 4) {
    throw new IdxFormatError(
      file,
      `an IDX ${kind} file with a ${words * 4}-byte header`,
      `${bytes.length} bytes in all (truncated)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: words }, (_, i) => view.getUint32(i * 4, false));
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Parses an IDX3 unsigned-byte image file (raw or gzip bytes). */
export function parseIdxImages(input: Uint8Array, file: string): IdxImages {
  const bytes = decompressIfGzip(input, file);
  const [magic = 0, count = 0, rows = 0, cols = 0] = header(bytes, file, 4, 'image');
  if (magic !== IDX_IMAGES_MAGIC) {
    throw new IdxFormatError(
      file,
      `magic number ${hex(IDX_IMAGES_MAGIC)} (IDX, unsigned bytes, 3 dimensions: images)`,
      `magic number ${hex(magic)}${magic === IDX_LABELS_MAGIC ? ' (a label file)' : ''}`,
    );
  }
  if (rows === 0 || cols === 0) {
    throw new IdxFormatError(file, 'images of at least 1×1 pixels', `${rows}×${cols}`);
  }
  const expectedLength = 16 + count * rows * cols;
  if (bytes.length !== expectedLength) {
    throw new IdxFormatError(
      file,
      `${expectedLength} bytes (16-byte header + ${count} images of ${rows}×${cols})`,
      `${bytes.length} bytes (${bytes.length < expectedLength ? 'truncated' : 'trailing data'})`,
    );
  }
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Parses an IDX1 unsigned-byte label file (raw or gzip bytes); labels must be digits 0..9. */
export function parseIdxLabels(input: Uint8Array, file: string): IdxLabels {
  const bytes = decompressIfGzip(input, file);
  const [magic = 0, count = 0] = header(bytes, file, 2, 'label');
  if (magic !== IDX_LABELS_MAGIC) {
    throw new IdxFormatError(
      file,
      `magic number ${hex(IDX_LABELS_MAGIC)} (IDX, unsigned bytes, 1 dimension: labels)`,
      `magic number ${hex(magic)}${magic === IDX_IMAGES_MAGIC ? ' (an image file)' : ''}`,
    );
  }
  const expectedLength = 8 + count;
  if (bytes.length !== expectedLength) {
    throw new IdxFormatError(
      file,
      `${expectedLength} bytes (8-byte header + ${count} labels)`,
      `${bytes.length} bytes (${bytes.length < expectedLength ? 'truncated' : 'trailing data'})`,
    );
  }
  const labels = bytes.subarray(8);
  const bad = labels.findIndex((label) => label > 9);
  if (bad >= 0) {
    throw new IdxFormatError(file, 'labels in 0..9', `label ${labels[bad]} at item ${bad}`);
  }
  return { count, labels };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new IdxFormatError(file, 'a readable IDX file', `cannot read it (${code})`, {
      cause: error,
    });
  }
}

export async function readIdxImages(file: string): Promise<IdxImages> {
  return parseIdxImages(await readBytes(file), file);
}

export async function readIdxLabels(file: string): Promise<IdxLabels> {
  return parseIdxLabels(await readBytes(file), file);
}

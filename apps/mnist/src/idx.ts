import { constants } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
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

/** The largest Buffer Node can allocate. */
const MAX_LENGTH = constants.MAX_LENGTH;

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

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];

/** What an IDX header says: the whole file's length, and its contents in words. */
interface Layout {
  readonly length: number;
  readonly contents: string;
}

/** One kind of IDX file: its header size and how to read it. */
interface IdxKind {
  readonly name: 'image' | 'label';
  readonly headerBytes: number;
  /** Checks the header (magic number, dimensions) and returns the length it implies. */
  readonly layout: (header: readonly number[], file: string) => Layout;
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

const IMAGES: IdxKind = {
  name: 'image',
  headerBytes: 16,
  layout([magic = 0, count = 0, rows = 0, cols = 0], file) {
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
    return { length: 16 + count * rows * cols, contents: `16-byte header + ${count} images of ${rows}×${cols}` };
  },
};

const LABELS: IdxKind = {
  name: 'label',
  headerBytes: 8,
  layout([magic = 0, count = 0], file) {
    if (magic !== IDX_LABELS_MAGIC) {
      throw new IdxFormatError(
        file,
        `magic number ${hex(IDX_LABELS_MAGIC)} (IDX, unsigned bytes, 1 dimension: labels)`,
        `magic number ${hex(magic)}${magic === IDX_IMAGES_MAGIC ? ' (an image file)' : ''}`,
      );
    }
    return { length: 8 + count, contents: `8-byte header + ${count} labels` };
  },
};

/** The header's big-endian 32-bit words; `bytes` must hold at least `kind.headerBytes`. */
function headerWords(bytes: Uint8Array, kind: IdxKind): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, kind.headerBytes);
  return Array.from({ length: kind.headerBytes / 4 }, (_, i) => view.getUint32(i * 4, false));
}

function truncatedHeader(file: string, kind: IdxKind, length: number): IdxFormatError {
  return new IdxFormatError(
    file,
    `an IDX ${kind.name} file with a ${kind.headerBytes}-byte header`,
    `${length} bytes in all (truncated)`,
  );
}

/** Checks `bytes` (a whole IDX file) against its header; returns the layout. */
function checkLayout(bytes: Uint8Array, file: string, kind: IdxKind): Layout {
  if (bytes.length < kind.headerBytes) throw truncatedHeader(file, kind, bytes.length);
  const layout = kind.layout(headerWords(bytes, kind), file);
  if (bytes.length !== layout.length) {
    throw new IdxFormatError(
      file,
      `${layout.length} bytes (${layout.contents})`,
      `${bytes.length} bytes (${bytes.length < layout.length ? 'truncated' : 'trailing data'})`,
    );
  }
  return layout;
}

/**
 * Inflates a gzip IDX file, reading its header first: inflation stops as soon as the output
 * exceeds the length the header implies (a small .gz can inflate to gigabytes), and never
 * starts on a header that is not IDX. Memory stays within that length.
 */
function gunzipIdx(input: Uint8Array, file: string, kind: IdxKind): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let inflated = 0;
    let layout: Layout | undefined;
    let failed = false;
    const fail = (error: unknown) => {
      failed = true;
      gunzip.destroy();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      chunks.push(chunk);
      inflated += chunk.length;
      try {
        if (layout === undefined && inflated >= kind.headerBytes) {
          layout = kind.layout(headerWords(Buffer.concat(chunks), kind), file);
          if (layout.length > MAX_LENGTH) {
            throw new IdxFormatError(
              file,
              `${layout.length} bytes (${layout.contents}) once inflated, as its header says`,
              `more than this app can hold in memory (${MAX_LENGTH} bytes)`,
            );
          }
        }
        if (layout !== undefined && inflated > layout.length) {
          throw new IdxFormatError(
            file,
            `${layout.length} bytes (${layout.contents}) once inflated, as its header says`,
            `a gzip stream that inflates to more than ${layout.length} bytes (inflation stopped there)`,
          );
        }
      } catch (error) {
        fail(error);
      }
    });
    gunzip.on('error', (error) => {
      if (failed) return;
      fail(new IdxFormatError(file, 'a valid gzip stream', `corrupt gzip data (${error.message})`, { cause: error }));
    });
    gunzip.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, inflated));
    });
    gunzip.end(input);
  });
}

/** The raw IDX bytes of `input`, inflated (within its header's length) when the content says gzip. */
async function idxBytes(input: Uint8Array, file: string, kind: IdxKind): Promise<Uint8Array> {
  return isGzip(input) ? gunzipIdx(input, file, kind) : input;
}

/** Parses an IDX3 unsigned-byte image file (raw or gzip bytes). */
export async function parseIdxImages(input: Uint8Array, file: string): Promise<IdxImages> {
  const bytes = await idxBytes(input, file, IMAGES);
  checkLayout(bytes, file, IMAGES);
  const [, count = 0, rows = 0, cols = 0] = headerWords(bytes, IMAGES);
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Parses an IDX1 unsigned-byte label file (raw or gzip bytes); labels must be digits 0..9. */
export async function parseIdxLabels(input: Uint8Array, file: string): Promise<IdxLabels> {
  const bytes = await idxBytes(input, file, LABELS);
  checkLayout(bytes, file, LABELS);
  const [, count = 0] = headerWords(bytes, LABELS);
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

import { BatchNormError, type BatchNormErrorCode } from '@batchnorm/core';

/** Where in a file a problem was found: the file, the tensor (or node) and the field. */
export interface InteropLocation {
  /** The file's path, or a name the caller gave the bytes (`source` option); absent for bare bytes. */
  readonly file?: string;
  /** The tensor, initializer, node or data-set entry at fault, e.g. `"bn1.running_var"`. */
  readonly tensor?: string;
  /** The field at fault, e.g. `"data_offsets"`, `"dtype"`, `"header length"`. */
  readonly field?: string;
}

export interface InteropErrorDetails extends InteropLocation {
  readonly code: BatchNormErrorCode;
  readonly expected: string;
  readonly received: string;
  readonly hint?: string;
  /** Overrides the `argument` built from file, tensor and field. */
  readonly argument?: string;
}

/**
 * A malformed or unsupported file (safetensors, ONNX), or a file that does not fit the layer it
 * is loaded into. A `BatchNormError` (so one `catch` handles every error of the library) with
 * the file, tensor and field it names: `INVALID_ARGUMENT` for a malformed file, `SHAPE_MISMATCH`
 * for a tensor of the wrong shape, `NOT_SUPPORTED` for a valid file that uses what this package
 * does not read (external data, float16, another operator).
 */
export class InteropError extends BatchNormError {
  readonly file?: string;
  readonly tensor?: string;
  readonly field?: string;

  constructor(details: InteropErrorDetails, options?: { cause?: unknown }) {
    super(
      {
        code: details.code,
        argument: details.argument ?? locationText(details),
        expected: details.expected,
        received: details.received,
        ...(details.hint === undefined ? {} : { hint: details.hint }),
      },
      options,
    );
    if (details.file !== undefined) this.file = details.file;
    if (details.tensor !== undefined) this.tensor = details.tensor;
    if (details.field !== undefined) this.field = details.field;
  }
}

/** `file: tensor "name" field`, the parts that are known. */
export function locationText({ file, tensor, field }: InteropLocation): string {
  const parts: string[] = [];
  if (tensor !== undefined) parts.push(`tensor ${JSON.stringify(tensor)}`);
  if (field !== undefined) parts.push(field);
  const where = parts.length === 0 ? 'file' : parts.join(' ');
  return file === undefined ? where : `${file}: ${where}`;
}

/** A malformed file: `INVALID_ARGUMENT` at `where`. */
export function malformed(
  where: InteropLocation,
  expected: string,
  received: string,
  hint?: string,
): InteropError {
  return new InteropError({ code: 'INVALID_ARGUMENT', ...where, expected, received, ...(hint === undefined ? {} : { hint }) });
}

/** A well-formed file using what this package does not read: `NOT_SUPPORTED` at `where`. */
export function unsupported(where: InteropLocation, expected: string, received: string, hint?: string): InteropError {
  return new InteropError({ code: 'NOT_SUPPORTED', ...where, expected, received, ...(hint === undefined ? {} : { hint }) });
}

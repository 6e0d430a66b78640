import type { Shape } from './types.js';

/** Why a call was rejected; stable strings, safe to branch on. */
export type BatchNormErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'NON_FINITE_INPUT'
  | 'INVALID_STATE'
  | 'INVALID_HANDLE'
  | 'NOT_SUPPORTED'
  | 'BACKEND_NOT_INSTALLED'
  | 'BACKEND_UNAVAILABLE'
  | 'UNKNOWN_BACKEND';

export interface BatchNormErrorDetails {
  readonly code: BatchNormErrorCode;
  /** The argument at fault, e.g. `"epsilon"` or `"x.shape"`. */
  readonly argument: string;
  /** What was expected, in words a user can act on. */
  readonly expected: string;
  /** What was received, rendered briefly. */
  readonly received: string;
  /** Optional hint: how to fix it. */
  readonly hint?: string;
}

/**
 * The one error type of the library. Every rejection names the argument, what was expected and
 * what was received; a failed call leaves every piece of state as it was.
 */
export class BatchNormError extends Error implements BatchNormErrorDetails {
  override readonly name = 'BatchNormError';
  readonly code: BatchNormErrorCode;
  readonly argument: string;
  readonly expected: string;
  readonly received: string;
  readonly hint?: string;

  constructor(details: BatchNormErrorDetails, options?: { cause?: unknown }) {
    const hint = details.hint === undefined ? '' : ` ${details.hint}`;
    super(
      `${details.argument}: expected ${details.expected}, received ${details.received}.${hint}`,
      options,
    );
    this.code = details.code;
    this.argument = details.argument;
    this.expected = details.expected;
    this.received = details.received;
    if (details.hint !== undefined) this.hint = details.hint;
  }
}

/** Renders a received value briefly for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const head = value.slice(0, 6).map(describeValue).join(', ');
    return `[${head}${value.length > 6 ? ', …' : ''}] (length ${value.length})`;
  }
  if (ArrayBuffer.isView(value) && 'length' in value) {
    return `${value.constructor.name} of length ${(value as unknown as { length: number }).length}`;
  }
  if (typeof value === 'object') return `an object with keys ${JSON.stringify(Object.keys(value))}`;
  return typeof value;
}

function hasArrayShape(value: unknown): value is { readonly shape: Shape } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { shape?: unknown }).shape);
}

function describeHandle(value: unknown): string {
  if (!hasArrayShape(value)) return describeValue(value);
  const kind = Object.getPrototypeOf(value) === Object.prototype ? 'an object' : `a ${value.constructor.name}`;
  return `${kind} with shape [${value.shape.join(', ')}]`;
}

/**
 * The error for a value that is not a live tensor of `backendName`: `INVALID_ARGUMENT` when it
 * is no tensor at all (no object with a `shape` array), else `INVALID_HANDLE`. `status` says what
 * the backend knows of it, when it knows.
 */
export function invalidHandle(
  backendName: string,
  value: unknown,
  argument: string,
  status?: 'disposed' | 'foreign',
): BatchNormError {
  const expected = `a live tensor of this "${backendName}" backend instance (made by its upload or a kernel, not disposed)`;
  if (!hasArrayShape(value)) {
    return new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected, received: describeValue(value) });
  }
  const why =
    status === 'disposed'
      ? 'that this backend has disposed (or that sgdUpdate consumed)'
      : status === 'foreign'
        ? 'not made by this backend instance (another backend, another instance, or a look-alike object)'
        : 'that is not a live tensor of it (another backend, another instance, a look-alike object, or disposed)';
  return new BatchNormError({
    code: 'INVALID_HANDLE',
    argument,
    expected,
    received: `${describeHandle(value)} ${why}`,
    hint: 'A tensor belongs to the backend instance that made it, until disposed: to move values to another backend, read them and upload them there.',
  });
}

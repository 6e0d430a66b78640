import type { Backend, HandleOf, TensorHandle } from './backend.js';
import { BatchNormError, invalidHandle } from './errors.js';
import type { TensorData } from './types.js';

/** The synchronous-read capability: what `hasSyncReads` proves and `readSync` needs. */
export interface SyncReads<T extends TensorHandle = TensorHandle> {
  readSync(t: T): TensorData;
}

/** A backend that declares `readSync`: the one a layer's `stateSync`/`foldSync` need. */
export type SyncBackend<T extends TensorHandle = TensorHandle, S = unknown> = Backend<T, S> & SyncReads<T>;

/** Whether `backend` can read synchronously (narrows its type). */
export function hasSyncReads<B extends Backend>(
  backend: B,
): backend is B & SyncReads<HandleOf<B>> {
  return typeof backend.readSync === 'function';
}

/** `backend.readSync(t)`, or a typed `NOT_SUPPORTED` error naming `argument` where absent. */
export function readSync<T extends TensorHandle>(
  backend: Backend<T>,
  t: T,
  argument = 'backend',
): TensorData {
  if (backend.readSync === undefined) throw noSyncReads(backend, argument);
  return backend.readSync(t);
}

/**
 * Copies `t` into the caller's `out` through `backend.readInto`, or `readSync` where absent.
 * @throws BatchNormError `NOT_SUPPORTED` on a backend that only reads asynchronously.
 */
export function readInto<T extends TensorHandle>(
  backend: Backend<T>,
  t: T,
  out: TensorData,
): void {
  if (!backend.isTensor(t)) throw invalidHandle(backend.name, t, 't');
  let size = 1;
  for (const d of t.shape) size *= d;
  if (out.length !== size) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'out',
      expected: `${size} values for shape [${t.shape.join(', ')}]`,
      received: `${out.length} values`,
    });
  }
  if (backend.readInto !== undefined) backend.readInto(t, out);
  else out.set(readSync(backend, t));
}

function noSyncReads(backend: Pick<Backend, 'name'>, argument: string): BatchNormError {
  return new BatchNormError({
    code: 'NOT_SUPPORTED',
    argument,
    expected: 'a backend that declares readSync (a synchronous read)',
    received: `backend "${backend.name}", which reads asynchronously only`,
    hint: 'Use the asynchronous form (await backend.read(t), await layer.state(), await layer.fold()).',
  });
}

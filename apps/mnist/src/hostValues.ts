import { hasSyncReads, type Backend, type TensorData, type TensorHandle } from '@batchnorm/core';

/** Host copy of a tensor, exact: float32 or float64 as the backend keeps it. */
export interface TensorSnapshot {
  readonly dtype: 'float32' | 'float64';
  readonly shape: number[];
  /** Little-endian bytes of the values, base64. */
  readonly base64: string;
}

export function snapshotOf(data: Float32Array | Float64Array, shape: readonly number[]): TensorSnapshot {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    dtype: data instanceof Float64Array ? 'float64' : 'float32',
    shape: [...shape],
    base64: bytes.toString('base64'),
  };
}

export function valuesOf(snapshot: TensorSnapshot): Float32Array | Float64Array {
  const bytes = Buffer.from(snapshot.base64, 'base64');
  const copy = new Uint8Array(bytes).buffer; // aligned
  return snapshot.dtype === 'float64' ? new Float64Array(copy) : new Float32Array(copy);
}

/** Converts host values to what `backend.upload` takes natively. */
export function forBackend(backend: Backend, data: Float32Array | Float64Array): Float32Array | Float64Array {
  if (backend.dtype === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * `t`'s values on the host: through `readSync` where the backend has it (no promise to settle on
 * a later task), else through `read`. The same values either way. `t` may be disposed as soon as
 * this returns.
 */
export function readValues<T extends TensorHandle>(backend: Backend<T>, t: T): TensorData | Promise<TensorData> {
  return hasSyncReads(backend) ? backend.readSync(t) : backend.read(t);
}

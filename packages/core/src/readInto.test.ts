import { describe, expect, it } from 'vitest';
import { BatchNormError, createReferenceBackend, readInto } from './index.js';

describe('readInto', () => {
  const backend = createReferenceBackend();
  const t = backend.upload(Float64Array.of(1, 2, 3, 4, 5, 6), [2, 3]);

  it('copies a tensor into the caller buffer through readSync when the backend has no readInto', () => {
    expect(backend.readInto).toBeUndefined();
    const out = new Float64Array(6).fill(-1);
    readInto(backend, t, out);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('uses the backend readInto when there is one', () => {
    const calls: unknown[] = [];
    const withReadInto = { ...backend, readInto: (h: typeof t, out: Float64Array | Float32Array) => { calls.push(h); out.fill(7); } };
    const out = new Float32Array(6);
    readInto(withReadInto, t, out);
    expect(calls).toEqual([t]);
    expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
  });

  it('an asynchronous-only backend: NOT_SUPPORTED naming the backend, out untouched', () => {
    const { readSync: _, ...asyncOnly } = backend;
    const out = new Float64Array(6).fill(-1);
    expect(() => readInto(asyncOnly, t, out)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'backend' }));
    expect(Array.from(out)).toEqual([-1, -1, -1, -1, -1, -1]);
  });

  it('rejects a buffer of the wrong length, naming out, and writes nothing', () => {
    const out = new Float64Array(5).fill(-1);
    const error = (() => {
      try {
        readInto(backend, t, out);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BatchNormError);
    expect(error).toMatchObject({ code: 'SHAPE_MISMATCH', argument: 'out' });
    expect(Array.from(out)).toEqual([-1, -1, -1, -1, -1]);
  });
});

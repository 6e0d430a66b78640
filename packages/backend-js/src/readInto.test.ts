import { asyncOnly, BatchNormError, readInto } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { createBackend } from './index.js';

describe('js readInto', () => {
  it('fills the caller buffer with the tensor values, the same as readSync, and reuses it', () => {
    const backend = createBackend({ threads: 1 });
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2);
    const t = backend.upload(data, [3, 4]);
    const out = new Float32Array(12);
    readInto(backend, t, out);
    expect(out).toEqual(backend.readSync(t));
    const y = backend.relu(t);
    readInto(backend, y, out);
    expect(Array.from(out)).toEqual(Array.from(data, (v) => Math.max(v, 0)));
    backend.destroy();
  });

  it('is declared on the backend itself (a v2 capability this backend has), and hidden by asyncOnly', () => {
    const backend = createBackend({ threads: 1 });
    const t = backend.upload(Float32Array.of(1.5, -2), [2]);
    const out = new Float32Array(2);
    backend.readInto(t, out);
    expect(Array.from(out)).toEqual([1.5, -2]);
    const wrapped = asyncOnly(backend);
    expect(wrapped.readInto).toBeUndefined();
    expect(() => readInto(wrapped, t, out)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED' }));
    expect(() => readInto(wrapped, t, out)).toThrow(BatchNormError);
    backend.destroy();
  });

  it('refuses a disposed tensor', () => {
    const backend = createBackend({ threads: 1 });
    const t = backend.upload(new Float32Array(4), [4]);
    backend.dispose(t);
    expect(() => readInto(backend, t, new Float32Array(4))).toThrow(/dispos/i);
    backend.destroy();
  });
});

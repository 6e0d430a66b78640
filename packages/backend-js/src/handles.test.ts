import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm, BatchNormError, createReferenceBackend, type BatchNormAttrs } from '@batchnorm/core';
import { createBackend, type JsTensor } from './index.js';
import { randomFloat32 } from './__tests__/helpers.js';

// Issue 13, item 8 on the js backend (conformance's errors/handles/* run every kind on every
// kernel): the hazards particular to this backend, each of which failed before the fix.

const attrs: BatchNormAttrs = { layout: 'NC', epsilon: 1e-5 };
const shape = [64, 4];
const size = 64 * 4;

function errorOf(run: () => unknown): BatchNormError {
  try {
    run();
  } catch (error) {
    if (error instanceof BatchNormError) return error;
    throw error;
  }
  throw new Error('expected a BatchNormError, nothing was thrown');
}

describe.each([
  ['simd', { threads: 1 }],
  ['simd: false', { threads: 1, simd: false }],
  ['threads: 2', { threads: 2, parallelMinElements: 16 }],
] as const)('js (%s)', (_label, options) => {
  const backend = createBackend(options);
  const other = createBackend(options);
  const reference = createReferenceBackend();
  afterAll(() => {
    backend.destroy();
    other.destroy();
  });
  const setUp = () => {
    const x = backend.upload(randomFloat32(1, size, 2, 1), shape);
    const gamma = backend.upload(Float32Array.of(1, 2, 0.5, -1), [4]);
    const beta = backend.upload(new Float32Array(4), [4]);
    const forward = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
    return { x, gamma, forward };
  };

  it("backward with the reference's dy: INVALID_HANDLE dy (the SIMD loop read WebAssembly memory at offset 0)", () => {
    const { x, gamma, forward } = setUp();
    const dy = reference.upload(Float64Array.from(randomFloat32(2, size)), shape);
    const error = errorOf(() => backend.batchNormBackward({ dy: dy as unknown as JsTensor, x, gamma, saved: forward.saved }, attrs));
    expect([error.code, error.argument]).toEqual(['INVALID_HANDLE', 'dy']);
  });

  it('a tensor of another js backend instance: INVALID_HANDLE, through the kernel and the layer', () => {
    const { gamma, forward } = setUp();
    const foreign = other.upload(randomFloat32(3, size), shape);
    const error = errorOf(() => backend.batchNormBackward({ dy: foreign, x: foreign, gamma, saved: forward.saved }, attrs));
    expect([error.code, error.argument]).toEqual(['INVALID_HANDLE', 'dy']);
    const layer = new BatchNorm(backend, { numFeatures: 4 });
    expect(errorOf(() => layer.forward(foreign))).toMatchObject({ code: 'INVALID_HANDLE', argument: 'x' });
    expect(layer.numBatchesTracked).toBe(0);
    // disposing it here would hand its buffer to the wrong pool
    expect(errorOf(() => backend.dispose(foreign))).toMatchObject({ code: 'INVALID_HANDLE', argument: 't' });
    expect(other.isTensor(foreign)).toBe(true);
    layer.dispose();
  });

  it("the reference's tensor into the js layer: INVALID_HANDLE x (it used to be computed silently)", () => {
    const layer = new BatchNorm(backend, { numFeatures: 4 });
    const x = reference.upload(Float64Array.from(randomFloat32(4, size)), shape);
    expect(errorOf(() => layer.forward(x as unknown as JsTensor))).toMatchObject({ code: 'INVALID_HANDLE', argument: 'x' });
    expect(layer.numBatchesTracked).toBe(0);
    layer.dispose();
  });

  it('a disposed tensor: INVALID_HANDLE naming the argument, saying it was disposed', () => {
    const t = backend.upload(randomFloat32(5, 8), [2, 4]);
    backend.dispose(t);
    const error = errorOf(() => backend.relu(t));
    expect([error.code, error.argument]).toEqual(['INVALID_HANDLE', 'x']);
    expect(error.received).toContain('disposed');
  });

  it('the shape of every handle is frozen', () => {
    const { x, forward } = setUp();
    for (const t of [x, forward.y, forward.mean]) {
      expect(() => {
        (t.shape as number[])[0] = 1;
      }).toThrow(TypeError);
      expect(() => {
        (t as unknown as { shape: number[] }).shape = [1];
      }).toThrow(TypeError);
    }
    expect([...x.shape]).toEqual(shape);
  });
});

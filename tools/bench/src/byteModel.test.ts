import { describe, expect, it } from 'vitest';
import { bytesMoved, floorMs, gigabytesPerSecond } from './byteModel.js';

describe('byte model', () => {
  it('counts tensor passes and per-feature vectors in float32 bytes', () => {
    // NC [4, 3]: 12 elements, 3 features.
    expect(bytesMoved('copy', 'NC', [4, 3])).toBe(4 * 2 * 12);
    expect(bytesMoved('forwardTraining', 'NC', [4, 3])).toBe(4 * (3 * 12 + 4 * 3));
    expect(bytesMoved('forwardInference', 'NC', [4, 3])).toBe(4 * (2 * 12 + 4 * 3));
    expect(bytesMoved('backward', 'NC', [4, 3])).toBe(4 * (5 * 12 + 5 * 3));
  });

  it('reads C from the layout (NHWC is [N, H, W, C])', () => {
    const size = 2 * 5 * 5 * 7;
    expect(bytesMoved('forwardTraining', 'NHWC', [2, 5, 5, 7])).toBe(4 * (3 * size + 4 * 7));
    expect(bytesMoved('forwardTraining', 'NCHW', [2, 7, 5, 5])).toBe(4 * (3 * size + 4 * 7));
  });

  it('puts the floors at 1.5× (training), 1× (inference), 2.5× (backward) the copy on large tensors', () => {
    const shape = [4096, 4096];
    const copy = bytesMoved('copy', 'NC', shape);
    expect(bytesMoved('forwardTraining', 'NC', shape) / copy).toBeCloseTo(1.5, 2);
    expect(bytesMoved('forwardInference', 'NC', shape) / copy).toBeCloseTo(1, 2);
    expect(bytesMoved('backward', 'NC', shape) / copy).toBeCloseTo(2.5, 2);
  });

  it('converts bytes and milliseconds to GB/s', () => {
    expect(gigabytesPerSecond(1e9, 1000)).toBe(1);
    expect(gigabytesPerSecond(134_217_728, 3.4)).toBeCloseTo(39.476, 2);
  });

  it('puts the floor of an op at its bytes moved at the copy\'s bandwidth', () => {
    const shape = [4, 3];
    // copy moves 96 bytes in 2 ms; training forward moves 4·(36 + 12) = 192 bytes: 4 ms
    expect(floorMs('forwardTraining', 'NC', shape, 2)).toBeCloseTo(4, 10);
    expect(floorMs('copy', 'NC', shape, 2)).toBe(2);
    // 2.5 tensor copies plus the five [C] vectors
    const s = 4096 * 4096;
    expect(floorMs('backward', 'NC', [4096, 4096], 4)).toBeCloseTo((4 * (5 * s + 5 * 4096)) / (2 * s), 10);
  });
});

import { BatchNormError } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { createBackend } from './createBackend.js';

function errorOf(run: () => unknown): BatchNormError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BatchNormError);
    return error as BatchNormError;
  }
  throw new Error('expected a BatchNormError');
}

describe('createBackend options', () => {
  it('rejects an unknown key, naming it and the known ones (a typo is not silently ignored)', () => {
    // @ts-expect-error -- `mdoe` is not an option: the type says so too
    const error = errorOf(() => createBackend({ mdoe: 'cpu' }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.argument).toBe('options.mdoe');
    expect(error.expected).toContain('"mode"');
    expect(error.hint).toContain('"mode"');
  });

  it('names every unknown key, not only the first', () => {
    // @ts-expect-error -- neither is an option
    const error = errorOf(() => createBackend({ mode: 'cpu', threads: 2, simd: true }));
    expect(error.argument).toBe('options.threads');
    expect(error.received).toContain('"threads", "simd"');
  });

  it('rejects options that are not an object', () => {
    for (const options of [null, 'cpu', 2]) {
      // @ts-expect-error -- not an options object
      const error = errorOf(() => createBackend(options));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.argument).toBe('options');
    }
  });

  it('takes no options, an empty object and undefined values as the defaults', () => {
    for (const options of [undefined, {}, { mode: undefined }, { mode: 'cpu' as const }]) {
      const backend = createBackend(options);
      expect(backend.specificationVersion).toBe('v2');
      backend.destroy();
    }
  });
});

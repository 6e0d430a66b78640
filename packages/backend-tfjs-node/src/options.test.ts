import { BatchNormError } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { backendModule } from './backendModule.js';
import { createBackend } from './backend.js';

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
  it('takes no options: any key is refused, named, instead of being ignored', () => {
    // @ts-expect-error -- tfjs-node has no modes: a key is a type error too
    const error = errorOf(() => createBackend({ mdoe: 'cpu' }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.argument).toBe('options.mdoe');
    expect(error.expected).toBe('no options');
    expect(error.hint).toBe('It takes no options.');
  });

  it('refuses through the manifest too (what loadBackend and the CLIs call)', () => {
    const error = errorOf(() => backendModule.createBackend({ mode: 'cpu' } as never));
    expect(error.argument).toBe('options.mode');
  });

  it('rejects options that are not an object', () => {
    // @ts-expect-error -- not an options object
    expect(errorOf(() => createBackend(null)).argument).toBe('options');
  });

  it('takes nothing, or an empty object', () => {
    for (const backend of [createBackend(), createBackend({})]) {
      expect(backend.specificationVersion).toBe('v2');
      backend.destroy();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createBackend } from './backend.js';

// core's checkedOptions is tested in core: here only that this factory calls it with its keys (none)
describe('createBackend options', () => {
  it('takes no options: any key is refused, named, instead of being ignored', () => {
    // @ts-expect-error -- tfjs-node has no options: a key is a type error too
    expect(() => createBackend({ mdoe: 'cpu' })).toThrow(
      expect.objectContaining({ name: 'BatchNormError', code: 'INVALID_ARGUMENT', argument: 'options.mdoe', expected: 'no options' }),
    );
  });
});

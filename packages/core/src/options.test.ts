import { describe, expect, it } from 'vitest';
import { expectBatchNormError } from './__tests__/helpers.js';
import { checkedOptions } from './options.js';

const invalidArgument = (run: () => unknown) => expectBatchNormError(run, 'INVALID_ARGUMENT');

describe('checkedOptions', () => {
  const known = ['threads', 'simd'];

  it('returns a copy of an object whose keys are all known', () => {
    const options = { threads: 2 };
    const record = checkedOptions(options, known, '{ threads: 2 }');
    expect(record).toEqual({ threads: 2 });
    expect(record).not.toBe(options);
    expect(checkedOptions({}, [], 'createBackend()')).toEqual({});
  });

  it('names the first unknown key, lists every unknown and known key, and suggests a near one', () => {
    const error = invalidArgument(() => checkedOptions({ thread: 2, simD: true, mode: 'cpu' }, known, '{ threads: 2 }'));
    expect(error.argument).toBe('options.thread');
    expect(error.message).toContain('unknown options "thread", "simD", "mode"');
    expect(error.message).toContain('only the options "threads", "simd"');
    expect(error.hint).toBe('Did you mean "threads"?');
    // no near key: the known ones; none known: says so
    expect(invalidArgument(() => checkedOptions({ colour: 1 }, known, '{}')).hint).toBe('The known options: "threads", "simd".');
    expect(invalidArgument(() => checkedOptions({ mode: 'cpu' }, [], 'createBackend()')).hint).toBe('It takes no options.');
  });

  it('refuses options that are not an object, with the example', () => {
    for (const bad of [null, 3, 'threads', [1]]) {
      const error = invalidArgument(() => checkedOptions(bad, known, '{ threads: 2 }'));
      expect(error.argument).toBe('options');
      expect(error.message).toContain('an object such as { threads: 2 }');
    }
  });
});

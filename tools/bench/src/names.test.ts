import { KNOWN_BACKENDS } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { parseArgs, SUBJECT_NAMES } from './args.js';
import { OUR_BACKENDS } from './names.js';

describe('the subjects', () => {
  it("are core's KNOWN_BACKENDS and the reference, then the TensorFlow.js anchors", () => {
    expect(OUR_BACKENDS).toEqual([...KNOWN_BACKENDS.map((k) => k.name), 'reference']);
    expect(SUBJECT_NAMES.slice(0, OUR_BACKENDS.length)).toEqual(OUR_BACKENDS);
    expect(parseArgs(['--only', OUR_BACKENDS.join(',')]).only).toEqual(new Set(OUR_BACKENDS));
    expect(() => parseArgs(['--only', 'nope'])).toThrow(`names among ${SUBJECT_NAMES.join(', ')}`);
  });
});

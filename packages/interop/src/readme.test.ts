import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's examples, type-checked and run against the built package (imported by name). */
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
afterAll(readme.cleanup);

/** What the comments in each example say it prints. */
const PRINTS = [
  '0.01 biased 0.001\n1\n3\n',
  'true true\n',
  'test_BatchNorm2d_eval/test_data_set_0 pass\nforwardInference NCHW\n',
];

describe('README.md', () => {
  it('has the three examples this test knows the output of', () => {
    expect(readme.examples).toHaveLength(PRINTS.length);
  });

  PRINTS.forEach((prints, index) => {
    it(`example ${index + 1} type-checks, runs and prints what its comments say`, () => {
      expect(readme.runClean(index, readme.exampleImporting(index, '@batchnorm/interop'))).toBe(prints);
    }, 60_000);
  });
});

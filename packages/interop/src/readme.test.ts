import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's examples, type-checked and run against the built package. */
const packageName = '@batchnorm/interop';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
const { examples } = readme;
afterAll(readme.cleanup);

describe('README.md', () => {
  it('has usage examples importing the package by name', () => {
    expect(examples.length).toBe(3);
    for (const example of examples) expect(example).toMatch(new RegExp(`from '${packageName}(/node)?'`));
  });

  examples.forEach((example, index) => {
    it(`example ${index + 1} type-checks and runs to completion against the built package`, () => {
      const { typeErrors, status, stderr, stdout } = readme.run(index, example);
      expect(typeErrors).toEqual([]);
      expect(stderr).toBe('');
      expect(status).toBe(0);
      // what the comments say it prints
      if (index === 0) expect(stdout).toBe('0.01 biased 0.001\n1\n3\n');
      if (index === 1) expect(stdout).toBe('true true\n');
      if (index === 2) expect(stdout).toBe('test_BatchNorm2d_eval/test_data_set_0 pass\nforwardInference NCHW\n');
    }, 60_000);
  });
});

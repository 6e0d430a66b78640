import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's usage example, type-checked and run against the built package. */
const packageName = '@batchnorm/backend-js';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
const { examples } = readme;
afterAll(readme.cleanup);

describe('README.md', () => {
  it('has a usage example importing the package by name', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain(`from '${packageName}'`);
  });

  it('usage example type-checks and runs to completion against the built package', () => {
    const { typeErrors, status, stderr } = readme.run(1, examples[0]!);
    expect(typeErrors).toEqual([]);
    // exit 0 also shows destroy() leaves nothing keeping the process alive
    expect(stderr).toBe('');
    expect(status).toBe(0);
  }, 60_000);

  it('browser example type-checks and runs (in Node: helper threads, no threadsReason)', () => {
    const example = examples.find((source) => source.includes('works in any page'));
    expect(example, 'the "In a browser" example').toBeDefined();
    const { typeErrors, status, stdout, stderr } = readme.run(2, example!);
    expect(typeErrors).toEqual([]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain("precision: 'float32'");
    expect(stdout).not.toContain('threadsReason');
  }, 60_000);
});

import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';
import { backendModule } from './index.js';

/** The README's usage example, type-checked and run against the built package. */
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
afterAll(readme.cleanup);

describe('README.md', () => {
  it('has a usage example that imports this package by name, type-checks and runs', () => {
    const [example] = readme.examples;
    expect(example).toContain(`from '${backendModule.packageName}'`);
    const { typeErrors, status, stderr } = readme.run(1, example!);
    expect(typeErrors).toEqual([]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
  }, 60_000);
});

import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's examples, type-checked and run against the built package (imported by name). */
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
afterAll(readme.cleanup);

describe('README.md', () => {
  it('usage example type-checks and runs to completion (exit 0: destroy() leaves nothing keeping the process alive)', () => {
    readme.runClean(1, readme.exampleImporting(0, '@batchnorm/backend-js'));
  }, 60_000);

  it('browser example type-checks and runs (in Node: helper threads, no threadsReason)', () => {
    const example = readme.examples.find((source) => source.includes('works in any page'));
    expect(example, 'the "In a browser" example').toBeDefined();
    const stdout = readme.runClean(2, example!);
    expect(stdout).toContain("precision: 'float32'");
    expect(stdout).not.toContain('threadsReason');
  }, 60_000);
});

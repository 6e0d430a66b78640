import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's usage example, type-checked and run against the built package. (Not named
 * readme.test.ts: npm packs every file whose name starts with "readme", tests included.)
 */
const packageName = '@batchnorm/backend-webgpu';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
const { examples } = readme;
afterAll(readme.cleanup);

/**
 * stderr without Dawn's own warnings (printed by its C++ code while it looks for adapters:
 * "Warning: Couldn't load Vulkan…", "Warning: …artificially reduced…", with their "at …" lines).
 */
function withoutDawnWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/^(Warning: |\s+at |\s+- While )/.test(line) && line.trim() !== '')
    .join('\n');
}

describe('README.md', () => {
  it('has a usage example importing the package by name', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain(`from '${packageName}'`);
  });

  it('usage example type-checks and runs to completion against the built package', () => {
    const { typeErrors, status, stdout, stderr } = readme.run(0, examples[0]!);
    expect(typeErrors).toEqual([]);
    expect(withoutDawnWarnings(stderr)).toBe('');
    // exit 0 also shows destroy() leaves nothing keeping the process alive
    expect(status).toBe(0);
    expect(stdout).toContain('dispatches: 2');
  }, 120_000);
});

import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's usage example, type-checked and run against the built package. (Not named
 * readme.test.ts: npm packs every file whose name starts with "readme", tests included.)
 */
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
afterAll(readme.cleanup);

/**
 * Dawn's own warnings, printed by its C++ code while it looks for adapters ("Warning: Couldn't
 * load Vulkan…", "Warning: …artificially reduced…", with their "at …" lines): any other line fails.
 */
const dawnWarnings = { ignoreStderr: (line: string) => /^(Warning: |\s+at |\s+- While )/.test(line) };

describe('README.md', () => {
  it('usage example type-checks and runs to completion (exit 0: destroy() leaves nothing keeping the process alive)', () => {
    const stdout = readme.runClean(0, readme.exampleImporting(0, '@batchnorm/backend-webgpu'), dawnWarnings);
    expect(stdout).toContain('dispatches: 2');
  }, 120_000);
});

import path from 'node:path';
import { fileURLToPath } from 'node:url';
// a relative import: this tool does not list @batchnorm/readme-example among its devDependencies
import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

// The repository's README, as package READMEs are tested: its ts blocks type-checked against the
// built packages' declarations and run with node, importing the packages by name as a user does.
const readmePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');
const readme = readmeExamples(import.meta.url, { readme: readmePath });
afterAll(readme.cleanup);

describe('the root README', () => {
  it('opens with an example on backend-js, the first thing a user reads', () => {
    expect(readme.examples.length).toBeGreaterThan(0);
    expect(readme.examples[0]).toContain("from '@batchnorm/backend-js'");
    expect(readme.examples[0]).toContain('bn.backward(dy)');
  });

  it('its first example type-checks and runs as written: eval-mode outputs, finite', () => {
    const { typeErrors, status, stdout, stderr } = readme.run(1, readme.examples[0]!);
    expect(typeErrors).toEqual([]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const printed = /Float32Array\(3\) \[([^\]]*)\]/.exec(stdout);
    expect(printed, stdout).not.toBeNull();
    const values = printed![1]!.split(',').map(Number);
    expect(values).toHaveLength(3);
    for (const value of values) expect(Number.isFinite(value) && Math.abs(value) < 10, stdout).toBe(true);
  }, 120_000);

  it('points only at files inside the repository (no ../shared)', () => {
    expect(readme.readme).not.toContain('../shared');
  });
});

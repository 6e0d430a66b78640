import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's examples, type-checked and run against the built package (cpu mode: no display needed). */
const packageName = '@batchnorm/backend-gpujs';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
afterAll(readme.cleanup);

describe('README.md', () => {
  it('usage example, in cpu mode, runs and prints its mode and three finite normalized values', () => {
    const example = readme.exampleImporting(0, packageName);
    expect(example).toContain("createBackend({ mode: 'cpu' })");
    const stdout = readme.runClean(1, example);
    expect(stdout.split('\n')[0]).toMatch(/^cpu /);
    const printed = /Float32Array\(3\) \[([^\]]*)\]/.exec(stdout);
    expect(printed, stdout).not.toBeNull();
    const values = printed![1]!.split(',').map(Number);
    expect(values).toHaveLength(3);
    for (const value of values) expect(Number.isFinite(value) && Math.abs(value) < 10).toBe(true);
  }, 60_000);

  it('contract example (manifest, saved, NCDHW) runs: dβ = Σdy = m per feature', () => {
    const example = readme.exampleImporting(1, packageName);
    expect(example).toContain(`import { backendModule } from '${packageName}'`);
    expect(readme.runClean(2, example)).toContain('float32-gpu Float32Array(3) [ 128, 128, 128 ]');
  }, 60_000);
});

import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's usage example, type-checked and run against the built package (cpu mode: no display needed). */
const packageName = '@batchnorm/backend-gpujs';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
const { examples } = readme;
afterAll(readme.cleanup);

describe('README.md', () => {
  it('has a usage example importing the package by name, in cpu mode (no display needed)', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain(`from '${packageName}'`);
    expect(examples[0]).toContain("createBackend({ mode: 'cpu' })");
  });

  it('usage example type-checks and runs against the built package', () => {
    const { typeErrors, status, stdout, stderr } = readme.run(1, examples[0]!);
    expect(typeErrors).toEqual([]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // it prints the mode it ran in, then three finite normalized values
    expect(stdout.split('\n')[0]).toMatch(/^cpu /);
    const printed = /Float32Array\(3\) \[([^\]]*)\]/.exec(stdout);
    expect(printed, stdout).not.toBeNull();
    const values = printed![1]!.split(',').map(Number);
    expect(values).toHaveLength(3);
    for (const value of values) expect(Number.isFinite(value) && Math.abs(value) < 10).toBe(true);
  }, 60_000);

  it('contract example (manifest, saved, NCDHW) type-checks and runs: dβ = Σdy = m per feature', () => {
    expect(examples[1]).toContain(`import { backendModule } from '${packageName}'`);
    const { typeErrors, status, stdout, stderr } = readme.run(2, examples[1]!);
    expect(typeErrors).toEqual([]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('float32-gpu Float32Array(3) [ 128, 128, 128 ]');
  }, 60_000);
});

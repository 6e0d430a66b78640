import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's usage example, type-checked and run against the built package. */
const packageName = '@batchnorm/backend-tfjs-node';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
const { examples } = readme;
afterAll(readme.cleanup);

describe('README.md', () => {
  it('has a usage example importing the package by name', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain(`from '${packageName}'`);
  });

  it('usage example type-checks and runs against the built package', () => {
    const { typeErrors, status, stdout, stderr } = readme.run(1, examples[0]!);
    expect(typeErrors).toEqual([]);
    // libtensorflow may log CPU-feature notes on stderr: only the exit status and output count
    expect(status, stderr).toBe(0);
    // the details it prints: the versions the comment in the example promises
    expect(stdout).toContain("tfjsNode: '4.22.0'");
    expect(stdout).toMatch(/tensorflow: '2\.\d+\.\d+'/);
    expect(stdout).toContain("device: 'cpu'");
    // and two running means from the asynchronous state(): about 0.1·E[x] = 0.05 after one step
    const means = /^\[ ([\d.e-]+), ([\d.e-]+) \]$/m.exec(stdout);
    expect(means, stdout).not.toBeNull();
    for (const v of means!.slice(1).map(Number)) expect(Math.abs(v - 0.05)).toBeLessThan(0.01);
  }, 60_000);

  it('contract example (manifest, saved, NDHWC and NCL) type-checks and runs: dβ = Σdy = m per feature', () => {
    expect(examples[1]).toContain(`import { backendModule } from '${packageName}'`);
    const { typeErrors, status, stdout, stderr } = readme.run(2, examples[1]!);
    expect(typeErrors).toEqual([]);
    expect(status, stderr).toBe(0);
    expect(stdout).toContain('NDHWC fused Float32Array(3) [ 64, 64, 64 ]');
    expect(stdout).toContain('NCL composed Float32Array(3) [ 64, 64, 64 ]');
  }, 60_000);
});

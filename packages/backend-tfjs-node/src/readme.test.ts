import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';

/** The README's examples, type-checked and run against the built package (imported by name). */
const packageName = '@batchnorm/backend-tfjs-node';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
afterAll(readme.cleanup);
// libtensorflow may log CPU-feature notes on stderr: only the exit status and output count
const tensorFlowLogs = { ignoreStderr: true } as const;

describe('README.md', () => {
  it('usage example runs and prints the versions it promises and two running means', () => {
    const stdout = readme.runClean(1, readme.exampleImporting(0, packageName), tensorFlowLogs);
    expect(stdout).toContain("tfjsNode: '4.22.0'");
    expect(stdout).toMatch(/tensorflow: '2\.\d+\.\d+'/);
    expect(stdout).toContain("device: 'cpu'");
    // from the asynchronous state(): about 0.1·E[x] = 0.05 after one step
    const means = /^\[ ([\d.e-]+), ([\d.e-]+) \]$/m.exec(stdout);
    expect(means, stdout).not.toBeNull();
    for (const v of means!.slice(1).map(Number)) expect(Math.abs(v - 0.05)).toBeLessThan(0.01);
  }, 60_000);

  it('contract example (manifest, saved, NDHWC and NCL) runs: dβ = Σdy = m per feature', () => {
    const example = readme.exampleImporting(1, packageName);
    expect(example).toContain(`import { backendModule } from '${packageName}'`);
    const stdout = readme.runClean(2, example, tensorFlowLogs);
    expect(stdout).toContain('NDHWC fused Float32Array(3) [ 64, 64, 64 ]');
    expect(stdout).toContain('NCL composed Float32Array(3) [ 64, 64, 64 ]');
  }, 60_000);
});

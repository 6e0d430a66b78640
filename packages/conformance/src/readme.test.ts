import { readmeExamples } from '@batchnorm/readme-example';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's example is a vitest test file (describeConformance registers describe/it blocks),
 * so it is type-checked only, not run: running it would be the whole suite again (this package's
 * own tests and every backend's conformance.test.ts already run describeConformance).
 */
const packageName = '@batchnorm/conformance';
const readme = readmeExamples(import.meta.url, { allowUnusedLocals: true });
const { workDir, packageDir } = readme;
afterAll(readme.cleanup);

describe('README.md', () => {
  it('vitest-entry example type-checks against the built package (not run: see above)', () => {
    const example = readme.exampleImporting(0, `${packageName}/vitest`);
    expect(example).toContain('describeConformance(');
    expect(example).toContain('profile: backendModule.traits.tolerance');
    expect(
      existsSync(join(packageDir, 'dist', 'vitest.d.ts')),
      `dist/ is missing: build first (pnpm turbo run build --filter=${packageName}...)`,
    ).toBe(true);
    // the example's './index.js' is the reader's backend package: core's reference backend stands in
    writeFileSync(
      join(workDir, 'index.ts'),
      "export { createReferenceBackend as createBackend, referenceBackendModule as backendModule } from '@batchnorm/core';\n",
    );
    const exampleFile = join(workDir, 'conformance.test.ts');
    writeFileSync(exampleFile, example);
    expect(readme.typeErrors(exampleFile)).toEqual([]);
  });

  it('names framework-free exports the package has', async () => {
    const named = /Everything is also available framework-free from `@batchnorm\/conformance`:([\s\S]*?)\n\n/.exec(readme.readme);
    expect(named).not.toBeNull();
    const names = [...named![1]!.matchAll(/`(\w+)[`(]/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(5);
    const api = (await import(packageName)) as Record<string, unknown>;
    for (const name of names) expect(typeof api[name], name).toBe('function');
  });
});

describe('README.md, the ./node entry', () => {
  it('runs the ./node example: the shipped vectors from disk, all passing on the reference', () => {
    const stdout = readme.runClean(1, readme.exampleImporting(1, `${packageName}/node`));
    const counts = /^(\d+)\/(\d+) passed$/m.exec(stdout);
    expect(counts, stdout).not.toBeNull();
    expect(Number(counts![2])).toBeGreaterThan(0);
    expect(counts![1]).toBe(counts![2]);
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's ```ts usage example, type-checked against the built declarations (imported by the
 * package's name, as a user would), so it stays true. Same approach as packages/core/src/readme.test.ts.
 * The example is a vitest test file (describeConformance registers describe/it blocks), so it is
 * type-checked only, not run: running it would be the whole suite again (this package's own tests
 * and every backend's conformance.test.ts already run describeConformance).
 */
const packageName = '@batchnorm/conformance';
const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

// Inside the package directory, so the package name resolves to this package (self-reference).
const workDir = mkdtempSync(join(packageDir, '.readme-example-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(packageDir, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir);
  // an example may name a result it only shows (const values = ...): not an error in a snippet
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false };
  delete options.rootDir;
  delete options.outDir;
  const program = ts.createProgram([file], options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('README.md', () => {
  it('has the vitest-entry example importing the package by name', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain(`from '${packageName}/vitest'`);
    expect(examples[0]).toContain('describeConformance(');
  });

  it('vitest-entry example type-checks against the built package (not run: see above)', () => {
    expect(
      existsSync(join(packageDir, 'dist', 'vitest.d.ts')),
      `dist/ is missing: build first (pnpm turbo run build --filter=${packageName}...)`,
    ).toBe(true);
    // the example's './index.js' is the reader's backend package: core's reference backend stands in
    writeFileSync(join(workDir, 'index.ts'), "export { createReferenceBackend as createBackend } from '@batchnorm/core';\n");
    const exampleFile = join(workDir, 'conformance.test.ts');
    writeFileSync(exampleFile, examples[0]!);
    expect(typeErrors(exampleFile)).toEqual([]);
  });

  it('names framework-free exports the package has', async () => {
    const named = /Everything is also available framework-free from `@batchnorm\/conformance`:([\s\S]*?)\n\n/.exec(readme);
    expect(named).not.toBeNull();
    const names = [...named![1]!.matchAll(/`(\w+)[`(]/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(5);
    const api = (await import(packageName)) as Record<string, unknown>;
    for (const name of names) expect(typeof api[name], name).toBe('function');
  });
});

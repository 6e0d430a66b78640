import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's ```ts usage example, type-checked against the built declarations and run with node
 * against the built package (imported by its name, as a user would), so it stays true.
 * Same approach as packages/core/src/readme.test.ts.
 */
const packageName = '@batchnorm/backend-tfjs-node';
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

function runExample(index: number, source: string): { status: number | null; stdout: string; stderr: string } {
  expect(
    existsSync(join(packageDir, 'dist', 'index.js')),
    `dist/ is missing: build first (pnpm turbo run build --filter=${packageName}...)`,
  ).toBe(true);
  const tsFile = join(workDir, `example-${index}.mts`);
  writeFileSync(tsFile, source);
  expect(typeErrors(tsFile)).toEqual([]);
  const jsFile = join(workDir, `example-${index}.mjs`);
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  writeFileSync(jsFile, outputText);
  const result = spawnSync(process.execPath, [jsFile], { cwd: packageDir, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('README.md', () => {
  it('has a usage example importing the package by name', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain(`from '${packageName}'`);
  });

  it('usage example type-checks and runs against the built package', () => {
    const { status, stdout, stderr } = runExample(1, examples[0]!);
    // libtensorflow may log CPU-feature notes on stderr: only the exit status and output count
    expect(status, stderr).toBe(0);
    // the details it prints: the versions the comment in the example promises
    expect(stdout).toContain("tfjsNode: '4.22.0'");
    expect(stdout).toMatch(/tensorflow: '2\.\d+\.\d+'/);
    expect(stdout).toContain("device: 'cpu'");
  }, 60_000);
});

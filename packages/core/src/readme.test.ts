import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm } from './BatchNorm.js';
import { createReferenceBackend } from './reference/index.js';

/**
 * The README's ```ts examples, type-checked against the built declarations and run with node
 * against the built package (imported by its name, as a user would), so they stay true.
 */
const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

// Inside the package directory, so '@batchnorm/core' resolves to this package (self-reference).
const workDir = mkdtempSync(join(packageDir, '.readme-example-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(packageDir, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true };
  delete options.rootDir;
  delete options.outDir;
  const program = ts.createProgram([file], options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('README.md', () => {
  it('has a usage example', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain("from '@batchnorm/core'");
  });

  it('states the defaults the layer has', () => {
    const layer = new BatchNorm(createReferenceBackend(), { numFeatures: 1 });
    // the conventions table: | `option` | meaning | `default` |
    const defaults = new Map(
      [...readme.matchAll(/^\| `(\w+)` \|.*\| `([^`]+)` \|$/gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    expect([...defaults.keys()].sort()).toEqual(['epsilon', 'layout', 'momentum', 'varianceCorrection']);
    expect(Number(defaults.get('momentum'))).toBe(layer.momentum);
    expect(Number(defaults.get('epsilon'))).toBe(layer.epsilon);
    expect(defaults.get('varianceCorrection')).toBe(`'${layer.varianceCorrection}'`);
    expect(defaults.get('layout')).toBe(`'${layer.layout}'`);
  });

  it.each(examples.map((source, i) => [i + 1, source] as const))(
    'example %i type-checks and runs against the built package',
    (index, source) => {
      expect(
        existsSync(join(packageDir, 'dist', 'index.js')),
        'dist/ is missing: build @batchnorm/core first (pnpm turbo run build --filter=@batchnorm/core)',
      ).toBe(true);
      const tsFile = join(workDir, `example-${index}.mts`);
      writeFileSync(tsFile, source);
      expect(typeErrors(tsFile)).toEqual([]);

      const jsFile = join(workDir, `example-${index}.mjs`);
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      writeFileSync(jsFile, outputText);
      // throws, with the example's stderr, if the example fails
      const stdout = execFileSync(process.execPath, [jsFile], { cwd: packageDir, encoding: 'utf8' });
      expect(stdout).toContain('folded');
    },
    60_000,
  );
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface ExampleRun {
  /** Type errors of the example against the package's built declarations. */
  readonly typeErrors: string[];
  /** The example's exit status under node; null when it was not run (type errors). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ReadmeExamples {
  readonly packageDir: string;
  readonly readme: string;
  /** The README's ```ts blocks, in order. */
  readonly examples: readonly string[];
  /** Scratch folder inside the package, so the package's own name resolves (self-reference). */
  readonly workDir: string;
  typeErrors(file: string): string[];
  /** Writes example `index`, type-checks it, and runs it with node from the package folder. */
  run(index: number, source: string): ExampleRun;
  /**
   * `run`, then throws unless the example type-checks, exits 0 and writes nothing to stderr but
   * the lines `options.ignoreStderr` passes over; returns its stdout.
   */
  runClean(index: number, source: string, options?: CleanRunOptions): string;
  /**
   * The README's `position`th ts block (0-based), which must import `specifier` by name as a
   * user would (`from 'specifier'` or one of its subpaths); throws when it is missing or does not.
   */
  exampleImporting(position: number, specifier: string): string;
  cleanup(): void;
}

export interface CleanRunOptions {
  /** A stderr line the example may write (an engine's own log line); `true` for any line. */
  readonly ignoreStderr?: true | ((line: string) => boolean);
}

/** Thrown by `runClean` and `exampleImporting`: what the README's example got wrong. */
export class ReadmeExampleError extends Error {
  override readonly name = 'ReadmeExampleError';
}

/**
 * The README examples of the package whose test file is `testFileUrl` (`import.meta.url` of a
 * file in `<package>/src/`), type-checked against the built declarations and run against the
 * built package, imported by its name as a user would, so the README stays true.
 */
export function readmeExamples(
  testFileUrl: string,
  options: {
    readonly allowUnusedLocals?: boolean;
    /**
     * Another README than the package's own (the repository's root README): its examples import
     * the packages the test's package depends on, so the package itself need not be built.
     */
    readonly readme?: string;
  } = {},
): ReadmeExamples {
  const packageDir = dirname(dirname(fileURLToPath(testFileUrl)));
  const readme = readFileSync(options.readme ?? join(packageDir, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const workDir = mkdtempSync(join(packageDir, '.readme-example-'));

  const typeErrors = (file: string): string[] => {
    const config = ts.readConfigFile(join(packageDir, 'tsconfig.json'), (path) => ts.sys.readFile(path));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir);
    const compilerOptions: ts.CompilerOptions = { ...parsed.options, noEmit: true };
    // an example may name a result it only shows (const values = ...)
    if (options.allowUnusedLocals === true) compilerOptions.noUnusedLocals = false;
    delete compilerOptions.rootDir;
    delete compilerOptions.outDir;
    const program = ts.createProgram([file], compilerOptions);
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  };

  const run = (index: number, source: string): ExampleRun => {
    if (options.readme === undefined && !existsSync(join(packageDir, 'dist', 'index.js'))) {
      throw new Error(`${packageDir}/dist is missing: build the package first (pnpm build)`);
    }
    const tsFile = join(workDir, `example-${index}.mts`);
    writeFileSync(tsFile, source);
    const errors = typeErrors(tsFile);
    if (errors.length > 0) return { typeErrors: errors, status: null, stdout: '', stderr: '' };
    const jsFile = join(workDir, `example-${index}.mjs`);
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(jsFile, outputText);
    const result = spawnSync(process.execPath, [jsFile], { cwd: packageDir, encoding: 'utf8', timeout: 60_000 });
    return { typeErrors: [], status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  const label = (index: number): string => `README example ${index} (example-${index}.mts)`;

  const runClean = (index: number, source: string, runOptions: CleanRunOptions = {}): string => {
    const { typeErrors: errors, status, stdout, stderr } = run(index, source);
    if (errors.length > 0) throw new ReadmeExampleError(`${label(index)} has type errors:\n${errors.join('\n')}`);
    const ignore = runOptions.ignoreStderr;
    const unexpected =
      ignore === undefined
        ? stderr
        : ignore === true
          ? ''
          : stderr
              .split('\n')
              .filter((line) => line.trim() !== '' && !ignore(line))
              .join('\n');
    if (status !== 0 || unexpected !== '') {
      throw new ReadmeExampleError(`${label(index)} exited with status ${status}; stderr:\n${stderr}\nstdout:\n${stdout}`);
    }
    return stdout;
  };

  const exampleImporting = (position: number, specifier: string): string => {
    const example = examples[position];
    if (example === undefined) {
      throw new ReadmeExampleError(`README.md has ${examples.length} ts example(s), no example ${position + 1}`);
    }
    if (!example.includes(`from '${specifier}'`) && !example.includes(`from '${specifier}/`)) {
      throw new ReadmeExampleError(`README example ${position + 1} does not import '${specifier}' by name:\n${example}`);
    }
    return example;
  };

  return {
    packageDir,
    readme,
    examples,
    workDir,
    typeErrors,
    run,
    runClean,
    exampleImporting,
    cleanup: () => rmSync(workDir, { recursive: true, force: true }),
  };
}

#!/usr/bin/env node
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BatchNormError,
  loadBackend,
  loadBackendModule,
  referenceBackendModule,
  type Backend,
  type BackendModule,
} from '@batchnorm/core';
import {
  cliBackendNames,
  currentEnvironment,
  failureHint,
  importBackendPackage,
  packageOf,
  requirementProblems,
  resolvePackageJson,
} from './cliBackends.js';
import { outputPathProblem, writeFileAtomic } from './files.js';
import type { GridSize } from './grid.js';
import { humanTable, markdownReport, type BackendRun } from './report.js';
import { loadOnnxTestCases, OnnxTestInputError } from './onnxTests.js';
import { runSuite } from './suite.js';
import type { CaseResult, ConformanceCase } from './types.js';
import { loadVectorFile } from './node.js';
import { VectorFileError } from './vectorFile.js';

/** Every backend name the CLI accepts, from core's one list (plus the reference). */
const BACKEND_NAMES = cliBackendNames();

/** The exit statuses (documented in USAGE and the README). */
const EXIT = {
  passed: 0,
  failed: 1,
  usage: 2,
  nothingChecked: 3,
  /** What a tool killed by SIGPIPE reports: stdout was closed (`| head`) before the run ended. */
  stdoutClosed: 141,
} as const;

const USAGE = `Usage: batchnorm-conformance [options]

Runs the batchnorm conformance suite on one or more backends.

Options:
  --backend NAME     ${BACKEND_NAMES.join(', ')}, a comma list of these, or all
                     (every installed backend; the default). Several backends run one
                     after another, each in its own child process
  --vectors FILE     run the cases of a batchnorm-vectors/1 file instead of the built-in
                     grid and checks
  --onnx-test DIR... run ONNX backend tests instead: DIR holds model.onnx (one
                     BatchNormalization node) and test_data_set_*/ of input_*.pb and
                     output_*.pb, or DIR is a folder of such directories; judged with
                     ONNX's own tolerance (atol 1e-7, rtol 1e-3). Several DIRs may follow
  --grid quick|full  which built-in grid to run (default quick; full adds the large shapes)
  --skip PATTERN     skip cases by name; * is a wildcard (repeatable)
  --mode X           passed to the one backend's createBackend as { mode: X } (see its README)
  --json             print exactly one JSON document on stdout (logs go to stderr)
  --report FILE.md   also write a Markdown table backend × case with the errors
  --help             show this help

A backend is judged with the tolerance profile its manifest names (traits.tolerance). A backend
whose manifest requires a display needs DISPLAY set: run under xvfb-run -a where there is none.

Exit status:
  0    every case passed on every backend
  1    some case failed, or a backend failed to start
  2    usage error, malformed vector file or ONNX test, or an output path that cannot be written
  3    nothing was checked: the vector file holds no cases, or --skip skipped them all
  141  stdout was closed before the run ended (| head); when it had ended, its own status`;

class UsageError extends Error {}

interface CliOptions {
  readonly backends: readonly string[];
  readonly all: boolean;
  readonly vectors?: string;
  /** `--onnx-test` directories, as given. */
  readonly onnxTests?: readonly string[];
  readonly grid: GridSize;
  readonly skip: readonly string[];
  readonly mode?: string;
  readonly json: boolean;
  readonly report?: string;
}

function parseOptions(argv: readonly string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        backend: { type: 'string' },
        vectors: { type: 'string' },
        'onnx-test': { type: 'string', multiple: true },
        grid: { type: 'string' },
        skip: { type: 'string', multiple: true },
        mode: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      // the directories after the first of `--onnx-test DIR DIR…`
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  const onnxTests = v['onnx-test'] === undefined ? undefined : [...v['onnx-test'], ...parsed.positionals];
  if (onnxTests === undefined && parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  if (onnxTests !== undefined && v.vectors !== undefined) throw new UsageError('--vectors and --onnx-test cannot be combined: run them one after the other');
  if (onnxTests?.includes('') === true) throw new UsageError('--onnx-test needs a directory');
  const grid = v.grid ?? 'quick';
  if (grid !== 'quick' && grid !== 'full') throw new UsageError(`--grid must be quick or full, got "${grid}"`);
  const requested = (v.backend ?? 'all').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (requested.length === 0) throw new UsageError('--backend needs a name');
  const all = requested.includes('all');
  for (const name of requested) {
    if (name !== 'all' && !BACKEND_NAMES.includes(name)) {
      throw new UsageError(`unknown backend "${name}": expected one of ${[...BACKEND_NAMES, 'all'].join(', ')}`);
    }
  }
  const backends = all ? BACKEND_NAMES : BACKEND_NAMES.filter((name) => requested.includes(name));
  // Backends reject option keys they do not know, so a mode means one backend's mode.
  if (v.mode !== undefined && (all || backends.length !== 1)) {
    throw new UsageError(`--mode applies to one backend's createBackend: use it with --backend NAME (got --backend ${requested.join(',')})`);
  }
  if (v.report !== undefined && v.report === '') throw new UsageError('--report needs a file name');
  return {
    backends,
    all,
    ...(v.vectors === undefined ? {} : { vectors: v.vectors }),
    ...(onnxTests === undefined ? {} : { onnxTests }),
    grid,
    skip: v.skip ?? [],
    ...(v.mode === undefined ? {} : { mode: v.mode }),
    json: v.json === true,
    ...(v.report === undefined ? {} : { report: v.report }),
  };
}

/** The JSON document of `--json` (also how a child process hands its results back). */
interface JsonDocument {
  readonly passed: number;
  readonly failed: number;
  readonly results: CaseResult[];
  readonly backends: BackendRun[];
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The run's exit status, once it is known (before the last output is written). */
let outcome: number | undefined;

/** Backends running in child processes now: stopped when this process ends early. */
const children = new Set<ChildProcess>();

/**
 * A reader that goes away (`| head`) ends the CLI quietly, as SIGPIPE ends other tools (Node
 * ignores SIGPIPE, so the write fails with EPIPE instead, and unhandled that is a stack trace).
 */
function exitWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') {
      log(`batchnorm-conformance: cannot write to stdout: ${error.message}`);
      process.exit(EXIT.failed);
    }
    for (const child of children) child.kill();
    process.exit(outcome ?? EXIT.stdoutClosed);
  });
  // logs are worth nothing to a reader that left, and not worth a crash either
  process.stderr.on('error', () => {});
}

/** JSON has no Infinity or NaN: write them as strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** Reads back what `jsonReplacer` wrote. */
function jsonReviver(key: string, value: unknown): unknown {
  const numeric = key === 'maxAbsError' || key === 'maxRelError' || key === 'toleranceRatio';
  return numeric && typeof value === 'string' ? Number(value) : value;
}

interface BackendOutcome {
  readonly run: BackendRun;
  readonly results: CaseResult[];
}

function startFailure(name: string, packageName: string, message: string): BackendOutcome {
  log(`backend ${name} failed to start: ${message}`);
  return {
    run: { name, packageName, error: `failed to start: ${message}` },
    results: [{ backend: name, case: 'backend/start', op: 'load', pass: false, maxAbsError: Infinity, maxRelError: Infinity, message }],
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Loads one backend from its manifest and runs the suite on it, in this process. */
async function runInProcess(name: string, options: CliOptions, cases: ConformanceCase[] | undefined): Promise<BackendOutcome> {
  const packageName = packageOf(name);
  const environment = currentEnvironment();
  let module: BackendModule;
  try {
    module = await loadBackendModule(name, importBackendPackage);
  } catch (error) {
    if (options.all && error instanceof BatchNormError && error.code === 'BACKEND_NOT_INSTALLED') {
      log(`note: backend ${name} skipped: ${packageName} is not installed`);
      return { run: { name, packageName, skipped: `not installed (${packageName})` }, results: [] };
    }
    return startFailure(name, packageName, describeError(error));
  }
  for (const problem of requirementProblems(module, environment)) log(`note: ${problem.message}`);
  const profile = module.traits.tolerance;
  let backend: Backend;
  try {
    backend = await loadBackend(name, options.mode === undefined ? {} : { mode: options.mode }, importBackendPackage);
  } catch (error) {
    const hint = failureHint(module, environment);
    return startFailure(name, packageName, `${describeError(error)}${hint === '' ? '' : `\n${hint}`}`);
  }
  log(`running ${cases === undefined ? `the ${options.grid} grid and checks` : `${cases.length} vector cases`} on ${name} (tolerance profile ${profile})…`);
  const started = performance.now();
  try {
    const results = await runSuite(backend, {
      grid: options.grid,
      skip: options.skip,
      profile,
      ...(cases === undefined ? {} : { cases }),
    });
    const failed = results.filter((r) => !r.pass).length;
    log(`  ${name}: ${results.length - failed} passed, ${failed} failed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { run: { name, packageName, profile, details: backend.details }, results };
  } finally {
    backend.destroy();
  }
}

/** The options of a child process that runs `name` alone, as the parent was asked to. */
function childArguments(name: string, options: CliOptions): string[] {
  return [
    '--backend',
    name,
    '--json',
    '--grid',
    options.grid,
    ...options.skip.flatMap((pattern) => ['--skip', pattern]),
    ...(options.mode === undefined ? [] : ['--mode', options.mode]),
    ...(options.vectors === undefined ? [] : ['--vectors', options.vectors]),
    ...(options.onnxTests ?? []).flatMap((dir) => ['--onnx-test', dir]),
  ];
}

/**
 * Runs one backend in a child process: this CLI again, with `--backend NAME --json`. Why: native
 * engines do not always coexist in one process (loading libtensorflow after headless-gl had run
 * crashed Node with a segmentation fault here, in that order only), and a crashing backend should
 * cost its own results, not the whole run. Isolation needs no load order and no backend names.
 */
async function runInChild(name: string, options: CliOptions): Promise<BackendOutcome> {
  const packageName = packageOf(name);
  if (resolvePackageJson(packageName) === undefined) {
    if (options.all) {
      log(`note: backend ${name} skipped: ${packageName} is not installed`);
      return { run: { name, packageName, skipped: `not installed (${packageName})` }, results: [] };
    }
    return startFailure(name, packageName, `${packageName} is not installed (npm install ${packageName})`);
  }
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...childArguments(name, options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code_, signal_) => resolve({ code: code_, signal: signal_ }));
  });
  let document: JsonDocument | undefined;
  try {
    document = JSON.parse(stdout, jsonReviver) as JsonDocument;
  } catch {
    document = undefined;
  }
  const run = document?.backends[0];
  const completed = code === EXIT.passed || code === EXIT.failed || code === EXIT.nothingChecked;
  if (!completed || document === undefined || run === undefined) {
    const how = signal === null ? `exit status ${code ?? 'unknown'}` : `signal ${signal}`;
    return startFailure(name, packageName, `its process crashed (${how}) before reporting its results`);
  }
  return { run, results: document.results };
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      log(`batchnorm-conformance: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.passed;
  }
  // found now rather than after the run, whose results would then be lost
  const reportProblem = options.report === undefined ? undefined : outputPathProblem(options.report);
  if (reportProblem !== undefined) {
    log(`batchnorm-conformance: --report ${options.report}: ${reportProblem}`);
    return EXIT.usage;
  }
  let cases: ConformanceCase[] | undefined;
  if (options.vectors !== undefined) {
    if (!existsSync(options.vectors)) {
      log(`batchnorm-conformance: --vectors ${options.vectors}: no such file`);
      return EXIT.usage;
    }
    try {
      cases = await loadVectorFile(options.vectors);
    } catch (error) {
      if (error instanceof VectorFileError) {
        log(`batchnorm-conformance: malformed vector file: ${error.message}`);
        return EXIT.usage;
      }
      throw error;
    }
    log(`${cases.length} cases from ${options.vectors}`);
  }
  const source = options.vectors ?? (options.onnxTests === undefined ? `built-in ${options.grid} grid and checks` : `ONNX backend tests in ${options.onnxTests.join(', ')}`);
  if (options.onnxTests !== undefined) {
    try {
      const loaded = await loadOnnxTestCases(options.onnxTests);
      cases = loaded.cases;
      // each backend's child process reads the tests found here, once each
      options = { ...options, onnxTests: loaded.directories };
      log(`${cases.length} cases from ${loaded.directories.length} ONNX backend tests`);
    } catch (error) {
      if (error instanceof OnnxTestInputError) {
        log(`batchnorm-conformance: --onnx-test: ${error.message}`);
        return EXIT.usage;
      }
      throw error;
    }
  }

  const runs: BackendRun[] = [];
  const results: CaseResult[] = [];
  // one backend runs here; several run each in a child process (see runInChild), except the
  // reference, which is plain JavaScript built into core
  const isolate = options.backends.length > 1;
  for (const name of options.backends) {
    const isolated = isolate && name !== referenceBackendModule.name;
    const outcome = isolated ? await runInChild(name, options) : await runInProcess(name, options, cases);
    runs.push(outcome.run);
    results.push(...outcome.results);
    const { run } = outcome;
    if (!options.json && run.skipped === undefined && run.error === undefined) {
      process.stdout.write(`${humanTable(name, run.details ?? {}, outcome.results)}\n`);
    }
  }

  const passed = results.filter((r) => r.pass && r.skipped !== true).length;
  const failed = results.filter((r) => !r.pass).length;
  const anyRan = runs.some((r) => r.skipped === undefined && r.error === undefined);
  const checkedNothing = failed === 0 && anyRan && passed === 0;
  outcome = failed > 0 || !anyRan ? EXIT.failed : checkedNothing ? EXIT.nothingChecked : EXIT.passed;
  if (options.json) {
    const document: JsonDocument = { passed, failed, results, backends: runs };
    process.stdout.write(`${JSON.stringify(document, jsonReplacer)}\n`);
  } else {
    const ran = runs.filter((r) => r.skipped === undefined && r.error === undefined).map((r) => r.name);
    const skipped = runs.filter((r) => r.skipped !== undefined).map((r) => `${r.name} (${r.packageName})`);
    process.stdout.write(
      `\nSummary: ${passed} passed, ${failed} failed on ${ran.join(', ') || 'no backend'}` +
        `${skipped.length > 0 ? ` (not installed: ${skipped.join(', ')})` : ''}\n`,
    );
  }
  if (checkedNothing) {
    const why =
      cases?.length === 0
        ? `${options.vectors} holds no cases`
        : `--skip skipped all ${new Set(results.map((r) => r.case)).size} cases`;
    log(`batchnorm-conformance: nothing was checked: ${why}`);
  }
  if (options.report !== undefined) {
    try {
      writeFileAtomic(options.report, markdownReport(runs, results, source));
      log(`wrote ${options.report}`);
    } catch (error) {
      // checked before the run, yet it can still fail (a full disk); the results are printed above
      log(`batchnorm-conformance: --report ${options.report}: cannot write it (${describeError(error)})`);
      return EXIT.usage;
    }
  }
  return outcome;
}

exitWhenStdoutCloses();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`batchnorm-conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = EXIT.failed;
  },
);

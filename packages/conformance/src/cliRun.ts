import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BatchNormError, loadBackend, loadBackendModule, type Backend, type BackendModule } from '@batchnorm/core';
import { currentEnvironment, failureHint, importBackendPackage, packageOf, requirementProblems, resolvePackageJson } from './cliBackends.js';
import { EXIT, type CliOptions } from './cliOptions.js';
import { describeError, log, parseJsonDocument } from './cliOutput.js';
import type { BackendRun } from './report.js';
import { runSuite } from './suite.js';
import type { CaseResult, ConformanceCase } from './types.js';

/** The CLI's entry, run again in each backend's child process. */
const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

/** Backends running in child processes now: stopped when this process ends early. */
export const children = new Set<ChildProcess>();

export interface BackendOutcome {
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

function notInstalled(name: string, packageName: string): BackendOutcome {
  log(`note: backend ${name} skipped: ${packageName} is not installed`);
  return { run: { name, packageName, skipped: `not installed (${packageName})` }, results: [] };
}

/** Loads one backend from its manifest and runs the suite on it, in this process. */
export async function runInProcess(name: string, options: CliOptions, cases: ConformanceCase[] | undefined): Promise<BackendOutcome> {
  const packageName = packageOf(name);
  const environment = currentEnvironment();
  let module: BackendModule;
  try {
    module = await loadBackendModule(name, importBackendPackage);
  } catch (error) {
    if (options.all && error instanceof BatchNormError && error.code === 'BACKEND_NOT_INSTALLED') return notInstalled(name, packageName);
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
export async function runInChild(name: string, options: CliOptions): Promise<BackendOutcome> {
  const packageName = packageOf(name);
  if (resolvePackageJson(packageName) === undefined) {
    if (options.all) return notInstalled(name, packageName);
    return startFailure(name, packageName, `${packageName} is not installed (npm install ${packageName})`);
  }
  const child = spawn(process.execPath, [...process.execArgv, CLI, ...childArguments(name, options)], {
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
  const document = parseJsonDocument(stdout);
  const run = document?.backends[0];
  const completed = code === EXIT.ok || code === EXIT.failed || code === EXIT.nothingChecked;
  if (!completed || document === undefined || run === undefined) {
    const how = signal === null ? `exit status ${code ?? 'unknown'}` : `signal ${signal}`;
    return startFailure(name, packageName, `its process crashed (${how}) before reporting its results`);
  }
  return { run, results: document.results };
}

#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BatchNormError, KNOWN_BACKEND_PACKAGES, loadBackend, type Backend, type BackendDetails } from '@batchnorm/core';
import { formatNumber } from './compare.js';
import { writeFileAtomic } from './files.js';
import type { GridSize } from './grid.js';
import { runSuite } from './suite.js';
import type { CaseResult, ConformanceCase } from './types.js';
import { loadVectorFile, VectorFileError } from './vectorFile.js';

const USAGE = `Usage: batchnorm-conformance [options]

Runs the batchnorm conformance suite on one or more backends.

Options:
  --backend NAME     reference, js, gpujs, tfjs-node, a comma list of these, or all
                     (every installed backend; the default)
  --vectors FILE     run the cases of a batchnorm-vectors/1 file instead of the built-in
                     grid and checks
  --grid quick|full  which built-in grid to run (default quick; full adds the large shapes)
  --skip PATTERN     skip cases by name; * is a wildcard (repeatable)
  --mode X           passed to the backends as { mode: X } (e.g. gpujs: headlessgl, cpu)
  --json             print exactly one JSON document on stdout (logs go to stderr)
  --report FILE.md   also write a Markdown table backend × case with the errors
  --help             show this help

Exit status: 0 when every case passed on every backend, 1 when some case failed or a backend
failed to start, 2 for usage errors and malformed vector files.`;

class UsageError extends Error {}

interface CliOptions {
  readonly backends: readonly string[];
  readonly all: boolean;
  readonly vectors?: string;
  readonly grid: GridSize;
  readonly skip: readonly string[];
  readonly mode?: string;
  readonly json: boolean;
  readonly report?: string;
}

/**
 * Run order: TensorFlow is loaded before gpu.js, because loading libtensorflow after headless-gl
 * ran in the same process crashed Node here (segmentation fault); the other order works.
 */
const LOAD_ORDER = ['reference', 'js', 'tfjs-node', 'gpujs'];
const BACKEND_NAMES = [
  ...LOAD_ORDER.filter((name) => name === 'reference' || Object.hasOwn(KNOWN_BACKEND_PACKAGES, name)),
  ...Object.keys(KNOWN_BACKEND_PACKAGES).filter((name) => !LOAD_ORDER.includes(name)),
];

function parseOptions(argv: readonly string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        backend: { type: 'string' },
        vectors: { type: 'string' },
        grid: { type: 'string' },
        skip: { type: 'string', multiple: true },
        mode: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
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
  if (v.report !== undefined && v.report === '') throw new UsageError('--report needs a file name');
  return {
    backends,
    all,
    ...(v.vectors === undefined ? {} : { vectors: v.vectors }),
    grid,
    skip: v.skip ?? [],
    ...(v.mode === undefined ? {} : { mode: v.mode }),
    json: v.json === true,
    ...(v.report === undefined ? {} : { report: v.report }),
  };
}

/** Where a package's ES entry lives, from its package.json `exports` (or `main`). */
function entryOf(packageJsonPath: string): string {
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
    exports?: unknown;
    main?: string;
  };
  const dir = path.dirname(packageJsonPath);
  let target: unknown = manifest.exports;
  if (typeof target === 'object' && target !== null && '.' in target) target = (target as Record<string, unknown>)['.'];
  while (typeof target === 'object' && target !== null) {
    const conditions = target as Record<string, unknown>;
    target = conditions['import'] ?? conditions['node'] ?? conditions['default'];
  }
  return path.join(dir, typeof target === 'string' ? target : (manifest.main ?? 'index.js'));
}

function notFound(specifier: string, cause: unknown): Error {
  const error = new Error(`Cannot find package '${specifier}'`, { cause });
  (error as NodeJS.ErrnoException).code = 'ERR_MODULE_NOT_FOUND';
  return error;
}

/**
 * Imports a backend package from the user's project first (process.cwd()), then from this CLI's
 * own location, so `pnpm conformance` finds the backends installed where it runs.
 */
async function importBackendPackage(specifier: string): Promise<unknown> {
  const bases = [path.join(process.cwd(), 'package.json'), fileURLToPath(import.meta.url)];
  let lastError: unknown;
  for (const base of bases) {
    let manifestPath: string;
    try {
      manifestPath = createRequire(base).resolve(`${specifier}/package.json`);
    } catch (error) {
      lastError = error;
      continue;
    }
    return import(pathToFileURL(entryOf(manifestPath)).href);
  }
  throw notFound(specifier, lastError);
}

interface BackendRun {
  readonly name: string;
  readonly details?: BackendDetails;
  readonly skipped?: string;
  readonly error?: string;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function cell(value: number): string {
  return formatNumber(value);
}

function humanTable(backend: string, details: BackendDetails, results: readonly CaseResult[]): string {
  const rows = results.map((r) => [
    r.case,
    r.skipped === true ? 'skip' : r.pass ? 'pass' : 'FAIL',
    cell(r.maxAbsError),
    cell(r.maxRelError),
    r.toleranceRatio === undefined ? '' : cell(r.toleranceRatio),
  ]);
  // error/tolerance: below 1 passes; how close a backend runs to its bound
  const header = ['case', 'pass', 'max abs error', 'max rel error', 'error/tolerance'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const facts = Object.entries(details).map(([k, v]) => `${k}: ${v}`).join(', ');
  const title = facts === '' ? backend : `${backend} (${facts})`;
  const out = [`\n== backend ${title} ==`, line(header), line(widths.map((w) => '-'.repeat(w)))];
  for (const [i, row] of rows.entries()) {
    out.push(line(row));
    const r = results[i]!;
    if (!r.pass && r.message !== undefined) out.push(`    ${r.message.split('\n')[0]}`);
  }
  return out.join('\n');
}

function markdownReport(runs: readonly BackendRun[], results: readonly CaseResult[], source: string): string {
  const ran = runs.filter((r) => r.skipped === undefined);
  const names = ran.map((r) => r.name);
  const cases = [...new Set(results.map((r) => r.case))];
  const byKey = new Map(results.map((r) => [`${r.backend}\u0000${r.case}`, r]));
  const passed = results.filter((r) => r.pass && r.skipped !== true).length;
  const failed = results.filter((r) => !r.pass).length;
  const lines = [
    '# batchnorm conformance report',
    '',
    `Cases: ${source}. ${passed} passed, ${failed} failed. Each cell: pass/FAIL, max abs error / max rel error (worst error as a fraction of its tolerance).`,
    '',
    '| backend | details |',
    '|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.name} | ${r.skipped ?? r.error ?? Object.entries(r.details ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')} |`,
    ),
    '',
    `| case | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
  ];
  for (const name of cases) {
    const cells = names.map((b) => {
      const r = byKey.get(`${b}\u0000${name}`);
      if (r === undefined) return '';
      if (r.skipped === true) return 'skip';
      const ratio = r.toleranceRatio === undefined ? '' : ` (${cell(r.toleranceRatio)} of tolerance)`;
      return `${r.pass ? 'pass' : '**FAIL**'} ${cell(r.maxAbsError)} / ${cell(r.maxRelError)}${ratio}`;
    });
    lines.push(`| \`${name}\` | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** JSON has no Infinity or NaN: write them as strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      log(`batchnorm-conformance: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let cases: ConformanceCase[] | undefined;
  if (options.vectors !== undefined) {
    if (!existsSync(options.vectors)) {
      log(`batchnorm-conformance: --vectors ${options.vectors}: no such file`);
      return 2;
    }
    try {
      cases = await loadVectorFile(options.vectors);
    } catch (error) {
      if (error instanceof VectorFileError) {
        log(`batchnorm-conformance: malformed vector file: ${error.message}`);
        return 2;
      }
      throw error;
    }
    log(`${cases.length} cases from ${options.vectors}`);
  }

  const runs: BackendRun[] = [];
  const results: CaseResult[] = [];
  const backendOptions = options.mode === undefined ? {} : { mode: options.mode };
  for (const name of options.backends) {
    let backend: Backend;
    try {
      backend = await loadBackend(name, backendOptions, importBackendPackage);
    } catch (error) {
      if (options.all && error instanceof BatchNormError && error.code === 'BACKEND_NOT_INSTALLED') {
        log(`note: backend ${name} skipped: ${KNOWN_BACKEND_PACKAGES[name] ?? name} is not installed`);
        runs.push({ name, skipped: 'not installed' });
        continue;
      }
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`backend ${name} failed to start: ${message}`);
      runs.push({ name, error: `failed to start: ${message}` });
      results.push({ backend: name, case: 'backend/start', op: 'load', pass: false, maxAbsError: Infinity, maxRelError: Infinity, message });
      continue;
    }
    log(`running ${cases === undefined ? `the ${options.grid} grid and checks` : `${cases.length} vector cases`} on ${name}…`);
    const started = performance.now();
    try {
      const backendResults = await runSuite(backend, {
        grid: options.grid,
        skip: options.skip,
        ...(cases === undefined ? {} : { cases }),
      });
      results.push(...backendResults);
      const failed = backendResults.filter((r) => !r.pass).length;
      log(`  ${name}: ${backendResults.length - failed} passed, ${failed} failed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      runs.push({ name, details: backend.details });
      if (!options.json) process.stdout.write(`${humanTable(name, backend.details, backendResults)}\n`);
    } finally {
      backend.destroy();
    }
  }

  const passed = results.filter((r) => r.pass && r.skipped !== true).length;
  const failed = results.filter((r) => !r.pass).length;
  if (options.report !== undefined) {
    writeFileAtomic(options.report, markdownReport(runs, results, options.vectors ?? `built-in ${options.grid} grid and checks`));
    log(`wrote ${options.report}`);
  }
  if (options.json) {
    const document = {
      passed,
      failed,
      results,
      backends: runs.map((r) => ({
        name: r.name,
        ...(r.details === undefined ? {} : { details: r.details }),
        ...(r.skipped === undefined ? {} : { skipped: r.skipped }),
        ...(r.error === undefined ? {} : { error: r.error }),
      })),
    };
    process.stdout.write(`${JSON.stringify(document, jsonReplacer)}\n`);
  } else {
    const ran = runs.filter((r) => r.skipped === undefined && r.error === undefined).map((r) => r.name);
    const skipped = runs.filter((r) => r.skipped !== undefined).map((r) => r.name);
    process.stdout.write(
      `\nSummary: ${passed} passed, ${failed} failed on ${ran.join(', ') || 'no backend'}` +
        `${skipped.length > 0 ? ` (not installed: ${skipped.join(', ')})` : ''}\n`,
    );
  }
  const anyRan = runs.some((r) => r.skipped === undefined && r.error === undefined);
  return failed === 0 && anyRan ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`batchnorm-conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);

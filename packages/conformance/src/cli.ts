#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { referenceBackendModule } from '@batchnorm/core';
import { exitOnSignals, handleClosedOutput, outputPathProblem, runCli, writeFileAtomic } from '@batchnorm/core/node';
import { EXIT, parseOptions, TOOL, USAGE, type CliOptions } from './cliOptions.js';
import { describeError, jsonText, log, logError, summaryText } from './cliOutput.js';
import { children, runInChild, runInProcess } from './cliRun.js';
import { loadVectorFile } from './node.js';
import { loadOnnxTestCases, OnnxTestInputError } from './onnxTests.js';
import { humanTable, markdownReport, type BackendRun } from './report.js';
import type { CaseResult, ConformanceCase } from './types.js';
import { VectorFileError } from './vectorFile.js';

/** The run's exit status, once it is known (before the last output is written). */
let outcome: number | undefined;

/** The cases of `--vectors` or `--onnx-test` (undefined: the built-in grid), or an exit status. */
async function loadCases(options: CliOptions): Promise<{ cases?: ConformanceCase[]; options: CliOptions } | number> {
  if (options.vectors !== undefined) {
    if (!existsSync(options.vectors)) {
      logError(`--vectors ${options.vectors}: no such file`);
      return EXIT.usage;
    }
    try {
      const cases = await loadVectorFile(options.vectors);
      log(`${cases.length} cases from ${options.vectors}`);
      return { cases, options };
    } catch (error) {
      if (!(error instanceof VectorFileError)) throw error;
      logError(`malformed vector file: ${error.message}`);
      return EXIT.usage;
    }
  }
  if (options.onnxTests !== undefined) {
    try {
      const loaded = await loadOnnxTestCases(options.onnxTests);
      log(`${loaded.cases.length} cases from ${loaded.directories.length} ONNX backend tests`);
      // each backend's child process reads the tests found here, once each
      return { cases: loaded.cases, options: { ...options, onnxTests: loaded.directories } };
    } catch (error) {
      if (!(error instanceof OnnxTestInputError)) throw error;
      logError(`--onnx-test: ${error.message}`);
      return EXIT.usage;
    }
  }
  return { options };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  // found now rather than after the run, whose results would then be lost
  const reportProblem = parsed.report === undefined ? undefined : outputPathProblem(parsed.report);
  if (reportProblem !== undefined) {
    logError(`--report ${parsed.report}: ${reportProblem}`);
    return EXIT.usage;
  }
  const loaded = await loadCases(parsed);
  if (typeof loaded === 'number') return loaded;
  const { cases, options } = loaded;
  const source = options.vectors ?? (options.onnxTests === undefined ? `built-in ${options.grid} grid and checks` : `ONNX backend tests in ${options.onnxTests.join(', ')}`);

  const runs: BackendRun[] = [];
  const results: CaseResult[] = [];
  // one backend runs here; several run each in a child process (see runInChild), except the
  // reference, which is plain JavaScript built into core
  const isolate = options.backends.length > 1;
  for (const name of options.backends) {
    const isolated = isolate && name !== referenceBackendModule.name;
    const { run, results: own } = isolated ? await runInChild(name, options) : await runInProcess(name, options, cases);
    runs.push(run);
    results.push(...own);
    if (!options.json && run.skipped === undefined && run.error === undefined) {
      process.stdout.write(`${humanTable(name, run.details ?? {}, own)}\n`);
    }
  }

  const passed = results.filter((r) => r.pass && r.skipped !== true).length;
  const failed = results.filter((r) => !r.pass).length;
  const anyRan = runs.some((r) => r.skipped === undefined && r.error === undefined);
  const checkedNothing = failed === 0 && anyRan && passed === 0;
  outcome = failed > 0 || !anyRan ? EXIT.failed : checkedNothing ? EXIT.nothingChecked : EXIT.ok;
  process.stdout.write(options.json ? jsonText({ passed, failed, results, backends: runs }) : summaryText(runs, passed, failed));
  if (checkedNothing) {
    const why = cases?.length === 0 ? `${options.vectors} holds no cases` : `--skip skipped all ${new Set(results.map((r) => r.case)).size} cases`;
    logError(`nothing was checked: ${why}`);
  }
  if (options.report !== undefined) {
    try {
      writeFileAtomic(options.report, markdownReport(runs, results, source));
      log(`wrote ${options.report}`);
    } catch (error) {
      // checked before the run, yet it can still fail (a full disk); the results are printed above
      logError(`--report ${options.report}: cannot write it (${describeError(error)})`);
      return EXIT.usage;
    }
  }
  return outcome;
}

// A reader that goes away (`| head`) ends the CLI quietly, as SIGPIPE ends other tools: with the
// run's status when it is known, else 141; the backends' child processes are stopped.
handleClosedOutput(() => {
  for (const child of children) child.kill();
  process.exit(outcome ?? EXIT.stdoutClosed);
});
// Ctrl-C reaches the children too (one process group), a SIGTERM to this process alone does not
exitOnSignals((signal) => {
  for (const child of children) child.kill(signal);
});
await runCli(TOOL, main);

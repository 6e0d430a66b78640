#!/usr/bin/env node
import { BatchNormError } from '@batchnorm/core';
import { EXIT_CODES, exitOnSignals, handleClosedOutput, outputPathProblem, runCli, UsageError, writeFileAtomic } from '@batchnorm/core/node';
import { parseArgs, TOOL, USAGE } from './args.js';
import { hasFailures, runBench } from './bench.js';
import { stopSubjectChildren } from './remote/subjectChild.js';
import { renderReport } from './report.js';

// TensorFlow reads this when it loads (in the children, which inherit it): oneDNN's reordering
// makes results and timings vary between runs.
process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';

/** The options, or a `UsageError` for bad ones (an `--out` that cannot be written included). */
function options() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof BatchNormError) throw new UsageError(error.message);
    throw error;
  }
  // found now rather than after a run of minutes, whose results would then be lost
  const problem = parsed.out === undefined ? undefined : outputPathProblem(parsed.out);
  if (problem !== undefined) throw new UsageError(`--out: expected a file path it can write (missing directories are made), received ${JSON.stringify(parsed.out)}: ${problem}`);
  return parsed;
}

async function main(): Promise<number> {
  const parsed = options();
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_CODES.ok;
  }
  const writeOut = process.stdout.write.bind(process.stdout);
  if (parsed.json) {
    // Libraries print banners and warnings through console: keep stdout for the one document.
    console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  }
  const start = performance.now();
  const log = (line: string) => process.stderr.write(`[${((performance.now() - start) / 1000).toFixed(1)}s] ${line}\n`);
  const doc = await runBench(parsed, log);
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  if (parsed.out !== undefined) writeFileAtomic(parsed.out, json);
  writeOut(parsed.json ? json : `${renderReport(doc)}\n`);
  if (parsed.json) process.stderr.write(`\n${renderReport(doc)}\n`);
  return hasFailures(doc) ? EXIT_CODES.failed : EXIT_CODES.ok;
}

// `pnpm -s bench --json | head`: the document is written last (and to --out first), so a reader
// that went away ends the run quietly with its own status.
handleClosedOutput();
// The subjects' child processes end with the run, whichever way it ends.
exitOnSignals(() => stopSubjectChildren());
await runCli(TOOL, main);

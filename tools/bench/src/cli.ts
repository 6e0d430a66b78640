#!/usr/bin/env node
import { parseArgs, USAGE } from './args.js';
import { hasFailures, runBench } from './bench.js';
import { checkWritable, writeAtomically } from './output.js';
import { renderReport } from './report.js';

// TensorFlow reads this when it loads (tfjs-node is imported later, dynamically): oneDNN's
// reordering makes results and timings vary between runs.
process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
    if (options.out !== undefined) checkWritable(options.out);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const writeOut = process.stdout.write.bind(process.stdout);
  if (options.json) {
    // Libraries print banners and warnings through console: keep stdout for the one document.
    console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  }
  const start = performance.now();
  const log = (line: string) => process.stderr.write(`[${((performance.now() - start) / 1000).toFixed(1)}s] ${line}\n`);
  const doc = await runBench(options, log);
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  if (options.out !== undefined) writeAtomically(options.out, json);
  writeOut(options.json ? json : `${renderReport(doc)}\n`);
  if (options.json) process.stderr.write(`\n${renderReport(doc)}\n`);
  return hasFailures(doc) ? 1 : 0;
}

// A reader that went away (`pnpm -s bench --json | head`): Node ignores SIGPIPE, so the write
// fails with EPIPE, a stack trace when unhandled. The document is written last (and to --out
// first), so end quietly with the run's own status; logs on stderr are not worth a crash either.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') process.exitCode = 1;
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);

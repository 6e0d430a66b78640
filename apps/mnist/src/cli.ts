#!/usr/bin/env node
import { main } from './main.js';

// A reader that went away (`pnpm mnist | head`): Node ignores SIGPIPE, so the write fails with
// EPIPE, a stack trace when unhandled. Only the closing summary goes to stdout, after the run's
// results are in its files, so nothing is lost by dropping it; progress on stderr likewise.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') process.exitCode = 1;
  });
}

process.exitCode = await main(process.argv.slice(2));

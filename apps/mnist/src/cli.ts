#!/usr/bin/env node
import { handleClosedOutput, runCli } from '@batchnorm/core/node';
import { main } from './main.js';
import { TOOL } from './options.js';

// A reader that went away (`pnpm mnist | head`) costs nothing: only the closing summary goes to
// stdout, after the run's results are in its files; progress on stderr likewise.
handleClosedOutput();

// main prints the errors it expects; the kit prints any other (a bug) with its stack, status 1.
await runCli(TOOL, () => main(process.argv.slice(2)));

#!/usr/bin/env node
import { handleClosedOutput } from '@batchnorm/core/node';
import { main } from './main.js';

// A reader that went away (`pnpm mnist | head`) costs nothing: only the closing summary goes to
// stdout, after the run's results are in its files; progress on stderr likewise.
handleClosedOutput();

process.exitCode = await main(process.argv.slice(2));

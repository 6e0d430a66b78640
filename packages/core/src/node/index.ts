/** `@batchnorm/core/node`: Node-only helpers (files, CLIs). Core's main entry stays free of `node:*`. */
export { outputPathProblem, temporaryPathOf, writeFileAtomic } from './files.js';
export { errorLine, EXIT_CODES, exitOnSignals, handleClosedOutput, runCli, UsageError, usageErrorText, usageLine } from './cli.js';
export { runWithClosedStdout, type ClosedStdoutRun } from './closedOutput.js';

/**
 * The small kit the batchnorm command-line tools share, so they speak alike: one error prefix
 * (`<tool>: error: …`), one usage line (`Usage: <tool> …`), one exit-code table (docs/cli.md).
 */

/** The exit statuses every batchnorm CLI uses (a tool may add its own, documented with it). */
export const EXIT_CODES = {
  /** The run did what was asked, and every check passed. */
  ok: 0,
  /** The run failed: a check failed, a backend failed, or an unexpected error. */
  failed: 1,
  /** Bad arguments or input files; nothing was run. */
  usage: 2,
  /** Stopped by SIGINT (Ctrl-C): 128 + 2, as shells report it. */
  SIGINT: 130,
  /** Stopped by SIGTERM: 128 + 15. */
  SIGTERM: 143,
} as const;

/** A mistake in the command line or its input: the CLI prints it with its usage line, exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `<tool>: error: <message>`, the one form of an error line. */
export function errorLine(tool: string, message: string): string {
  return `${tool}: error: ${message}`;
}

/** `Usage: <tool> <synopsis>`, the first line of every help text. */
export function usageLine(tool: string, synopsis = '[options]'): string {
  return `Usage: ${tool} ${synopsis}`;
}

/** What a CLI prints on a usage error: the error line, its usage line and where the rest is. */
export function usageErrorText(tool: string, message: string, synopsis?: string): string {
  return `${errorLine(tool, message)}\n${usageLine(tool, synopsis)}\nRun '${tool} --help' for the options.`;
}

/**
 * A reader that goes away (`| head`) ends nothing badly: Node ignores SIGPIPE, so the write
 * fails with EPIPE, a stack trace when unhandled. `onClosed` runs when stdout closes (e.g. to
 * exit with the run's status); stderr's logs are not worth a crash either. Another write error
 * (a full disk) sets exit status 1.
 */
export function handleClosedOutput(onClosed?: () => void): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') {
        process.exitCode = EXIT_CODES.failed;
        return;
      }
      if (stream === process.stdout) onClosed?.();
    });
  }
}

/**
 * Ends the process on SIGINT or SIGTERM with the table's status (130, 143) after `cleanup` (e.g.
 * stopping child processes, which a SIGTERM sent to this process alone would leave running).
 */
export function exitOnSignals(cleanup: (signal: 'SIGINT' | 'SIGTERM') => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup(signal);
      process.exit(EXIT_CODES[signal]);
    });
  }
}

/**
 * Runs a CLI's `main` and exits with the status it returns. A `UsageError` thrown out of it is
 * printed with `usageErrorText` (status 2); any other error, a bug, as `<tool>: error: <stack>`
 * (status 1).
 */
export function runCli(tool: string, main: () => Promise<number>, synopsis?: string): Promise<void> {
  return main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${usageErrorText(tool, error.message, synopsis)}\n`);
        process.exitCode = EXIT_CODES.usage;
        return;
      }
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`${errorLine(tool, message)}\n`);
      process.exitCode = EXIT_CODES.failed;
    },
  );
}

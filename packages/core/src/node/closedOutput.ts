import { spawn } from 'node:child_process';

/** How a process run by `runWithClosedStdout` ended. */
export interface ClosedStdoutRun {
  readonly status: number | null;
  readonly stderr: string;
}

/**
 * Runs `node <args>` with a stdout whose reader has gone away at once (`… | head -c 0`): the
 * check that a CLI using `handleClosedOutput` ends quietly, with its own status.
 */
export function runWithClosedStdout(args: readonly string[], options: { readonly cwd?: string } = {}): Promise<ClosedStdoutRun> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

/** Runs the CLI with a stdout whose reader has gone away (`pnpm -s bench --json | head -c 0`). */
function withClosedStdout(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

describe('a closed stdout (issue 13 item 14)', () => {
  it('--help: ends quietly, no EPIPE stack', async () => {
    const { status, stderr } = await withClosedStdout(['--help']);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(status).toBe(0);
  });

  it('a finished run: its own status, no EPIPE stack', async () => {
    const { status, stderr } = await withClosedStdout(['--quick', '--json', '--only', 'js', '--no-mnist', '--shapes', 'NC:60x100']);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(status).toBe(0);
  }, 120_000);
});

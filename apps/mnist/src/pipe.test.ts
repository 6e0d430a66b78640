import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, QUICK } from './__tests__/cliProcess.js';

const work = mkdtempSync(join(tmpdir(), 'mnist-pipe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI with a stdout whose reader has gone away (`pnpm mnist | head -c 0`). */
function withClosedStdout(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('a finished run: its own status and files, no EPIPE stack', async () => {
    const out = join(work, 'run');
    const { status, stderr } = await withClosedStdout([...QUICK, '--steps', '10', '--out', out]);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(status).toBe(0);
  }, 120_000);
});

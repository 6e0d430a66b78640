import { runWithClosedStdout } from '@batchnorm/core/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, QUICK } from './__tests__/cliProcess.js';

const work = mkdtempSync(join(tmpdir(), 'mnist-pipe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a closed stdout (issue 13 item 14)', () => {
  it('--help: ends quietly (nothing on stderr), status 0', async () => {
    expect(await runWithClosedStdout([CLI, '--help'])).toEqual({ status: 0, stderr: '' });
  });

  it('a finished run: its own status and files, no EPIPE stack', async () => {
    const out = join(work, 'run');
    const { status, stderr } = await runWithClosedStdout([CLI, ...QUICK, '--steps', '10', '--out', out]);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(status).toBe(0);
  }, 120_000);
});

import { runWithClosedStdout } from '@batchnorm/core/node';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

describe('a closed stdout (issue 13 item 14)', () => {
  it('--help: ends quietly (nothing on stderr), status 0', async () => {
    expect(await runWithClosedStdout([cli, '--help'])).toEqual({ status: 0, stderr: '' });
  });

  it('a finished run: its own status, no EPIPE stack', async () => {
    const { status, stderr } = await runWithClosedStdout([cli, '--quick', '--json', '--only', 'js', '--no-mnist', '--shapes', 'NC:60x100']);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(status).toBe(0);
  }, 120_000);
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorLine, EXIT_CODES, usageErrorText, usageLine } from './index.js';

describe('the CLI kit', () => {
  it('has one error prefix and one usage line form', () => {
    expect(errorLine('batchnorm-bench', '--rounds: expected an integer')).toBe('batchnorm-bench: error: --rounds: expected an integer');
    expect(usageLine('batchnorm-mnist')).toBe('Usage: batchnorm-mnist [options]');
    expect(usageErrorText('t', 'unknown option "--x"', '[--y]')).toBe(
      "t: error: unknown option \"--x\"\nUsage: t [--y]\nRun 't --help' for the options.",
    );
  });

  it('exits with the documented statuses: signals as 128 + their number', async () => {
    const { constants } = await import('node:os');
    expect(EXIT_CODES).toEqual({ ok: 0, failed: 1, usage: 2, SIGINT: 128 + constants.signals.SIGINT, SIGTERM: 128 + constants.signals.SIGTERM });
  });
});

/** Runs a script importing the built kit, with a stdout whose reader has gone away (`| head -c 0`). */
function withClosedStdout(script: string): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import * as kit from '@batchnorm/core/node';\n${script}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

describe('handleClosedOutput (issue 13 item 14, for every CLI)', () => {
  const write = `for (let i = 0; i < 64; i++) process.stdout.write('x'.repeat(65536));`;

  it('a reader that went away costs no EPIPE stack trace: the run ends with its own status', async () => {
    const bare = await withClosedStdout(`${write}`);
    expect(bare.stderr).toMatch(/EPIPE/); // what the kit is for
    const handled = await withClosedStdout(`kit.handleClosedOutput(); ${write} process.exitCode = 3;`);
    expect(handled.stderr).toBe('');
    expect(handled.status).toBe(3);
  });

  it('runs onClosed, which may end the run at once with a status', async () => {
    const r = await withClosedStdout(`kit.handleClosedOutput(() => process.exit(141)); ${write} await new Promise((r) => setTimeout(r, 60_000));`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(141);
  });

  it('runCli: a UsageError exits 2 in the shared form, a bug exits 1 with its stack', async () => {
    const usage = await withClosedStdout(`await kit.runCli('t', async () => { throw new kit.UsageError('--x: expected a number'); });`);
    expect(usage).toEqual({ status: 2, stderr: "t: error: --x: expected a number\nUsage: t [options]\nRun 't --help' for the options.\n" });
    const bug = await withClosedStdout(`await kit.runCli('t', async () => { throw new TypeError('oops'); });`);
    expect(bug.status).toBe(1);
    expect(bug.stderr).toMatch(/^t: error: TypeError: oops\n\s+at /);
  });
});

describe('exitOnSignals', () => {
  it('runs the cleanup, then exits 143 on SIGTERM (not killed by the signal)', async () => {
    const script = `import * as kit from '@batchnorm/core/node';
kit.exitOnSignals((signal) => process.stderr.write('cleanup ' + signal));
process.stdout.write('ready');
setTimeout(() => {}, 60_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('.', import.meta.url)) });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGTERM');
    const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (s, g) => resolve([s, g])));
    expect({ status, signal, stderr }).toEqual({ status: 143, signal: null, stderr: 'cleanup SIGTERM' });
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliProcess, outcomeOf, QUICK, runCli, stepsDoneIn } from './__tests__/cliProcess.js';
import { temporaryDirectories } from './__tests__/temp.js';

const temp = temporaryDirectories('mnist-rundir-');
const LOCK = 'run.lock';

/** The pid of a process that has exited (its pid is, for now, not in use). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

/** The first multiple of 10 (the QUICK evaluation interval) above `steps`, plus one interval. */
const beyond = (steps: number) => (Math.floor(steps / 10) + 2) * 10;

describe('--out DIR that already holds a run (issue 13, item 1)', () => {
  it('refuses it with exit code 2, naming the directory and how to go on, and leaves it untouched', () => {
    const dir = temp();
    writeFileSync(join(dir, 'checkpoint.json'), 'a precious checkpoint');
    writeFileSync(join(dir, 'metrics.json'), 'precious metrics');
    const result = runCli([...QUICK, '--steps', '10', '--out', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(dir);
    expect(result.stderr).toContain(`--resume ${dir}`);
    expect(result.stderr).toContain('--overwrite');
    expect(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).toBe('a precious checkpoint');
    expect(readFileSync(join(dir, 'metrics.json'), 'utf8')).toBe('precious metrics');
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('replaces it with --overwrite', () => {
    const dir = temp();
    writeFileSync(join(dir, 'checkpoint.json'), 'an old checkpoint');
    writeFileSync(join(dir, 'report.html'), 'an old report');
    const result = runCli([...QUICK, '--steps', '10', '--out', dir, '--overwrite']);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).toMatch(/^\{"schema":"batchnorm-mnist-checkpoint\/1"/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/);
    expect(stepsDoneIn(dir)).toEqual([10, 10]);
  });

  it('refuses an --out that is a file with exit code 2', () => {
    const file = join(temp(), 'a-file');
    writeFileSync(file, 'not a directory');
    const result = runCli([...QUICK, '--steps', '10', '--out', file]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`--out ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
  });
});

describe('the lock on a run directory (issue 13, item 2)', () => {
  it('lets one of two runs started together on the same --out train; the other fails at once naming its pid', async () => {
    const dir = join(temp(), 'shared');
    const a = new CliProcess([...QUICK, '--steps', '20', '--out', dir]);
    const b = new CliProcess([...QUICK, '--steps', '20', '--out', dir]);
    const [fa, fb] = await Promise.all([a.exited, b.exited]);
    const [winner, loser, winnerPid] = fa.status === 0 ? [fa, fb, a.pid] : [fb, fa, b.pid];
    expect(winner.status).toBe(0);
    expect(loser.status).toBe(1);
    expect(loser.stderr).toContain(`pid ${winnerPid}`);
    expect(loser.stderr).toContain(dir);
    // At once: before the winner has finished its run.
    expect(loser.exitedAt).toBeLessThan(winner.exitedAt);
    expect(stepsDoneIn(dir)).toEqual([20, 20]);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  }, 120_000);

  it('refuses a directory whose lock is held by a live process, and leaves the lock alone', () => {
    const dir = temp();
    const lock = JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() });
    writeFileSync(join(dir, LOCK), lock);
    const result = runCli([...QUICK, '--steps', '10', '--out', dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`pid ${process.pid}`);
    expect(result.stderr).toContain(join(dir, LOCK));
    expect(readFileSync(join(dir, LOCK), 'utf8')).toBe(lock);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
  });

  it('takes over a stale lock (its process is dead) and releases it at the end', () => {
    const dir = temp();
    const pid = deadPid();
    writeFileSync(join(dir, LOCK), JSON.stringify({ pid, hostname: hostname(), startedAt: '2020-01-01T00:00:00.000Z' }));
    const result = runCli([...QUICK, '--steps', '10', '--out', dir]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`stale lock .*pid ${pid}`));
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('releases the lock when the run fails', () => {
    const dir = temp();
    const result = runCli([...QUICK, '--steps', '10', '--data', temp(), '--out', dir]);
    expect(result.status).toBe(1);
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });
});

describe('interrupting a run (issue 13, item 3)', () => {
  it('stops at the next step on SIGINT, writes a checkpoint --resume continues bit-exactly and the report, exits 130', async () => {
    const dir = join(temp(), 'interrupted');
    const run = new CliProcess([...QUICK, '--steps', '100000', '--out', dir]);
    await run.waitForStderr(/plain step 10\/100000/);
    run.child.kill('SIGINT');
    const signalled = performance.now();
    await run.waitForStderr(/Stopped by SIGINT/, 10_000);
    // At the next step boundary, not at the end of 100,000 steps.
    expect(performance.now() - signalled).toBeLessThan(1000);
    const finished = await run.exited;
    expect(finished.status).toBe(130);
    expect(finished.stderr).toContain(`pnpm mnist --resume ${dir}`);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    expect(existsSync(join(dir, LOCK))).toBe(false);
    const done = stepsDoneIn(dir);
    expect(Math.max(...done)).toBeLessThan(100_000);
    expect(Math.min(...done)).toBeGreaterThanOrEqual(10);
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.runs.map((r: { stepsDone: number }) => r.stepsDone)).toEqual(done);
    expect(metrics.finished).toBe(false);

    const steps = beyond(Math.max(...done));
    const resumed = runCli(['--resume', dir, '--steps', String(steps)]);
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.status).toBe(0);
    const whole = join(temp(), 'whole');
    expect(runCli([...QUICK, '--steps', String(steps), '--out', whole]).status).toBe(0);
    expect(outcomeOf(dir)).toEqual(outcomeOf(whole));
  }, 180_000);

  it('on SIGTERM after the last step: writes the report, exits 143 and does not suggest --resume', async () => {
    const dir = join(temp(), 'finished');
    expect(runCli([...QUICK, '--steps', '10', '--out', dir]).status).toBe(0);
    const before = outcomeOf(dir);
    rmSync(join(dir, 'report.html'));
    const run = new CliProcess(['--resume', dir]);
    await run.waitForStderr(/Resuming/);
    run.child.kill('SIGTERM');
    const finished = await run.exited;
    expect(finished.status).toBe(143);
    expect(finished.stderr).toMatch(/SIGTERM/);
    expect(finished.stderr).not.toContain('pnpm mnist --resume');
    expect(finished.stderr).toMatch(/all 10 steps/);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    expect(existsSync(join(dir, LOCK))).toBe(false);
    expect(outcomeOf(dir)).toEqual(before);
  }, 120_000);

  it('stops at once on a second SIGINT, still releasing the lock', async () => {
    const dir = join(temp(), 'twice');
    const run = new CliProcess([...QUICK, '--steps', '100000', '--out', dir]);
    await run.waitForStderr(/plain step 10\/100000/);
    run.child.kill('SIGINT');
    // The checkpoint is saved; the second Ctrl-C comes while the report is being drawn.
    await run.waitForStderr(/Stopped by SIGINT/, 10_000);
    run.child.kill('SIGINT');
    const finished = await run.exited;
    expect(finished.status).toBe(130);
    expect(finished.stderr).toMatch(/SIGINT again: stopping at once/);
    expect(existsSync(join(dir, LOCK))).toBe(false);
    expect(Math.min(...stepsDoneIn(dir))).toBeGreaterThanOrEqual(10);
  }, 120_000);

  it('after kill -9, --resume takes over the stale lock and reproduces the uninterrupted run bit for bit', async () => {
    const dir = join(temp(), 'killed');
    const run = new CliProcess([...QUICK, '--steps', '100000', '--out', dir]);
    await run.waitForStderr(/plain step 20\/100000/);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    expect(existsSync(join(dir, LOCK))).toBe(true); // left behind: its process is dead
    const steps = beyond(Math.max(...stepsDoneIn(dir)));
    const resumed = runCli(['--resume', dir, '--steps', String(steps)]);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toContain(`stale lock of pid ${run.pid}`);
    expect(existsSync(join(dir, LOCK))).toBe(false);
    const whole = join(temp(), 'whole');
    expect(runCli([...QUICK, '--steps', String(steps), '--out', whole]).status).toBe(0);
    expect(outcomeOf(dir)).toEqual(outcomeOf(whole));
  }, 180_000);
});

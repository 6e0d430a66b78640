import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, RunLock, RunLockedError, type LockHolder } from './lock.js';

const temp = () => mkdtempSync(join(tmpdir(), 'mnist-lock-'));
const writeLock = (dir: string, holder: Partial<LockHolder>) =>
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ hostname: hostname(), startedAt: '2020-01-01T00:00:00.000Z', ...holder }));
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
};

// Issue 13, item 2 (runDirectory.test.ts races two real runs).
describe('RunLock', () => {
  it('writes this process into the lock file, refuses a second taker naming the pid, and releases', () => {
    const dir = temp();
    const exitListeners = process.listenerCount('exit');
    const lock = RunLock.acquire(dir);
    const file = join(dir, LOCK_FILE);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(process.listenerCount('exit')).toBe(exitListeners + 1);
    const error = errorOf(() => RunLock.acquire(dir));
    expect(error).toBeInstanceOf(RunLockedError);
    expect((error as RunLockedError).message).toContain(`pid ${process.pid}`);
    expect((error as RunLockedError).holder?.pid).toBe(process.pid);
    lock.release();
    lock.release(); // idempotent
    expect(readdirSync(dir)).toEqual([]);
    expect(process.listenerCount('exit')).toBe(exitListeners);
    RunLock.acquire(dir).release();
  });

  it('takes over the lock of a process that has ended', () => {
    const dir = temp();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeLock(dir, { pid: dead });
    const lock = RunLock.acquire(dir);
    expect(lock.tookOver?.pid).toBe(dead);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!existsSync('/proc/self/stat'))('takes over a lock whose pid now belongs to another process (a reused pid)', () => {
    const dir = temp();
    writeLock(dir, { pid: process.pid, processStart: '1' });
    const lock = RunLock.acquire(dir);
    expect(lock.tookOver?.pid).toBe(process.pid);
    expect(lock.holder.processStart).toMatch(/^\d+$/);
    lock.release();
  });

  it('leaves alone a lock it cannot judge: unreadable, or from another host', () => {
    const dir = temp();
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, 'garbage');
    expect(() => RunLock.acquire(dir)).toThrow(new RegExp(`cannot be read.*delete ${file}`));
    expect(readFileSync(file, 'utf8')).toBe('garbage');
    writeLock(dir, { pid: 1, hostname: 'elsewhere' });
    expect(() => RunLock.acquire(dir)).toThrow(/pid 1 on elsewhere/);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });

  it('does not remove a lock that is no longer its own', () => {
    const dir = temp();
    const lock = RunLock.acquire(dir);
    writeLock(dir, { pid: process.pid, startedAt: 'another run' });
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).startedAt).toBe('another run');
  });
});

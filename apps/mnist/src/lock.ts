import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'run.lock';

/** What a lock file says about the run holding it. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** When the run took the lock (ISO 8601). */
  readonly startedAt: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  readonly processStart?: string;
}

/** The run directory is locked by another run that is (or may be) alive. */
export class RunLockedError extends Error {
  override readonly name = 'RunLockedError';
  readonly file: string;
  readonly holder: LockHolder | undefined;

  constructor(dir: string, file: string, holder: LockHolder | undefined, detail?: string) {
    const who =
      holder === undefined
        ? `a run whose lock cannot be read (${detail})`
        : `another run: pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt}`;
    const howTo =
      holder === undefined || holder.hostname !== hostname()
        ? `If no run is using it, delete ${file}.`
        : `Wait for it to finish or stop it (kill ${holder.pid}); if that pid is not a run of this app, delete ${file}.`;
    super(`${dir} is in use by ${who}. ${howTo}`);
    this.file = file;
    this.holder = holder;
  }
}

/** Field 22 of /proc/PID/stat: the start time of the process (after the command name, which may hold spaces). */
function processStart(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `holder` has certainly ended (only knowable on this host). */
function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // Alive, but is it the same process, or a new one that was given the same pid?
  const start = processStart(holder.pid);
  return holder.processStart !== undefined && start !== undefined && start !== holder.processStart;
}

const sameHolder = (a: LockHolder, b: LockHolder) => a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt;

function readHolder(file: string): LockHolder {
  const holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  if (!Number.isInteger(holder?.pid) || typeof holder.hostname !== 'string') throw new Error('not a lock of this app');
  return holder;
}

/**
 * An exclusive lock on a run directory: the file `run.lock` holding the pid, host and start time
 * of its run. It is created whole or not at all (written aside, then hard-linked to its name,
 * which fails if the name exists), so two runs cannot both take it. A lock whose process has
 * ended (killed, crashed) is taken over. It is released on every exit path: by `release()`, and
 * by an 'exit' handler for a process that ends without reaching it.
 */
export class RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** The lock of a dead process this one replaced, if any. */
  readonly tookOver: LockHolder | undefined;
  readonly #onExit = () => this.release();

  private constructor(file: string, holder: LockHolder, tookOver: LockHolder | undefined) {
    this.file = file;
    this.holder = holder;
    this.tookOver = tookOver;
    process.on('exit', this.#onExit);
  }

  /** Takes the lock on `dir` (which must exist); throws `RunLockedError` if a live run holds it. */
  static acquire(dir: string): RunLock {
    const file = join(dir, LOCK_FILE);
    const start = processStart('self');
    const holder: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      ...(start === undefined ? {} : { processStart: start }),
    };
    const aside = `${file}.${process.pid}.tmp`;
    writeFileSync(aside, `${JSON.stringify(holder)}\n`);
    let tookOver: LockHolder | undefined;
    try {
      // A few rounds: each lost race against another run taking over the same stale lock retries.
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(aside, file);
          return new RunLock(file, holder, tookOver);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        let current: LockHolder;
        let inode: number;
        try {
          inode = statSync(file).ino;
          current = readHolder(file);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
          throw new RunLockedError(dir, file, undefined, error instanceof Error ? error.message : String(error));
        }
        if (!isStale(current)) throw new RunLockedError(dir, file, current);
        // Move the stale lock away, then check it was that very file (not a new lock another run
        // took after removing the same stale one: its inode may even be the stale one's, reused,
        // so the content is compared too); if not, put it back.
        const moved = `${file}.${process.pid}.stale`;
        try {
          renameSync(file, moved);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        let same: boolean;
        try {
          same = statSync(moved).ino === inode && sameHolder(readHolder(moved), current);
        } catch {
          same = false;
        }
        if (same) {
          rmSync(moved);
          tookOver = current;
        } else {
          try {
            linkSync(moved, file);
          } finally {
            rmSync(moved, { force: true });
          }
        }
      }
      throw new RunLockedError(dir, file, undefined, 'other runs keep taking it');
    } finally {
      rmSync(aside, { force: true });
    }
  }

  /** Removes the lock file if it is still this lock's (not one that replaced it). Idempotent. */
  release(): void {
    process.removeListener('exit', this.#onExit);
    try {
      if (sameHolder(readHolder(this.file), this.holder)) rmSync(this.file);
    } catch {
      // Already gone (or replaced by something that is not ours to remove).
    }
  }
}

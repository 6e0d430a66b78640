import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelFileNames } from './export.js';
import { UsageError, type NewRun } from './options.js';
import { CHECKPOINT_FILE, METRICS_FILE } from './records.js';

/** `runs/` at the repository root (apps/mnist/dist/ → ../../..), git-ignored. */
export function defaultRunsDirectory(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'runs');
}

function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Creates a new `runs/<timestamp>[-N]`; creating it is what claims the name, so two runs never share one. */
export function createRunDirectory(): string {
  const base = join(defaultRunsDirectory(), timestamp());
  mkdirSync(dirname(base), { recursive: true });
  for (let i = 1; ; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The files a run writes into its directory. A directory with either of the first two holds a run. */
export const RUN_FILES = [
  CHECKPOINT_FILE,
  METRICS_FILE,
  'report.html',
  'figure1.svg',
  'figure1.png',
  ...(['bn', 'plain'] as const).flatMap((variant) => Object.values(modelFileNames(variant))),
] as const;

/** `path` as one shell word, for a command the user can paste. */
export function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Throws a `UsageError` unless `path`, given to `flag`, is an existing directory. */
export function requireDirectory(flag: string, path: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${path}: ${code === 'ENOENT' ? 'no such directory (it does not exist)' : `cannot use it (${code})`}`);
  }
  if (!isDirectory) throw new UsageError(`${flag} ${path}: not a directory`);
}

/** Where a new run writes: `--out` (created if needed) or a fresh `runs/<timestamp>`. */
export function outDirectoryOf(command: NewRun): { dir: string; created: boolean } {
  if (command.outDir === undefined) return { dir: createRunDirectory(), created: true };
  const dir = resolve(command.outDir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UsageError(`--out ${command.outDir}: expected a directory, but it is a file`);
  }
  const created = !existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${command.outDir}: cannot create it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return { dir, created };
}

export function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Gone, or no longer empty (another process wrote into it): leave it.
  }
}

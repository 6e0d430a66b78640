import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * The temporary file `writeFileAtomic` writes beside `path` before renaming it over `path`:
 * named by process (and worker thread), so two writers of one file never share it.
 */
export function temporaryPathOf(path: string): string {
  return threadId === 0 ? `${path}.${process.pid}.tmp` : `${path}.${process.pid}-${threadId}.tmp`;
}

/**
 * Writes a file atomically: readers see the old content or the new, never a torn one. Missing
 * parent directories are made. When the write fails (a full disk), the old file is untouched,
 * the temporary file is removed and the error (with its `code`) is thrown on.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPathOf(path);
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, data);
      // on disk before the rename, so a crash cannot leave the new name on an empty file
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** `statSync`, or undefined for a path that does not exist (or runs through a file). */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * Why `writeFileAtomic(path, …)` would fail, found before a long run rather than after it:
 * `path` is a directory, an ancestor is a file, or the nearest existing directory (missing ones
 * are made) is not writable. Undefined when it can be written, as far as can be known beforehand.
 */
export function outputPathProblem(path: string): string | undefined {
  const target = resolve(path);
  try {
    if (statOrUndefined(target)?.isDirectory() === true) return 'is a directory';
    let dir = dirname(target);
    let stats = statOrUndefined(dir);
    while (stats === undefined && dirname(dir) !== dir) {
      dir = dirname(dir);
      stats = statOrUndefined(dir);
    }
    if (stats === undefined) return `no directory of it exists`;
    if (!stats.isDirectory()) return `${dir} is not a directory`;
    // a file is made in it, then renamed: both need write and search permission
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const { code, syscall, path: where = target } = error as NodeJS.ErrnoException;
    return syscall === 'access' ? `${where} is not writable (${code})` : `${where} cannot be reached (${code ?? String(error)})`;
  }
}

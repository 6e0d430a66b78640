import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Writes atomically: a temporary file beside the target, then a rename; on failure none is left. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
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

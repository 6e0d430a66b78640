import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/** The temporary file `writeFileAtomic` writes before renaming it over `path`. */
export function temporaryPathOf(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/**
 * Writes a file atomically: readers see the old content or the new, never a torn one. When the
 * write fails (a full disk), the old file is untouched and the temporary file is removed.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temporary = temporaryPathOf(path);
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, data);
      // On disk before the rename, so a crash cannot leave the new name on an empty file.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${path}: cannot write it (${reason}); the previous version, if any, is unchanged`, { cause: error });
  }
}

import { writeFileAtomic as writeAtomically } from '@batchnorm/core/node';

export { temporaryPathOf } from '@batchnorm/core/node';

/**
 * Writes a file atomically (core's write: readers see the old content or the new, never a torn
 * one). When the write fails (a full disk), the old file is untouched, the temporary file is
 * removed, and the error names the file and says so.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  try {
    writeAtomically(path, data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${path}: cannot write it (${reason}); the previous version, if any, is unchanged`, { cause: error });
  }
}

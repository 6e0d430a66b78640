import { accessSync, constants, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BatchNormError } from '@batchnorm/core';

/**
 * Checks before a run of minutes that `file` can be written at its end: its directory exists
 * and is writable, and `file` is not a directory.
 */
export function checkWritable(file: string): void {
  const directory = path.dirname(path.resolve(file));
  const fail = (received: string) =>
    new BatchNormError({ code: 'INVALID_ARGUMENT', argument: '--out', expected: 'a file path in a writable directory', received });
  try {
    if (!statSync(directory).isDirectory()) throw fail(`${directory} is not a directory`);
    accessSync(directory, constants.W_OK);
  } catch (error) {
    if (error instanceof BatchNormError) throw error;
    throw fail(`${JSON.stringify(file)} (${error instanceof Error ? error.message : String(error)})`);
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw fail(`${JSON.stringify(file)} is a directory`);
}

/** Writes `text` to `file` atomically: a temporary file beside it, then a rename over it. */
export function writeAtomically(file: string, text: string): void {
  const temporary = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BatchNormError } from '@batchnorm/core';
import { loadOnnxTest } from '@batchnorm/interop/node';
import type { ConformanceCase } from './types.js';

/**
 * `--onnx-test`: ONNX backend-test directories (`model.onnx` of one `BatchNormalization` node,
 * `test_data_set_<k>/input_<j>.pb`, `output_<j>.pb`) as conformance cases, read by
 * `@batchnorm/interop`. CLI only (it reads files with `node:fs`): not exported from the index.
 */

/** A path that is not an ONNX backend test, or a test that cannot be read: a usage error (exit 2). */
export class OnnxTestInputError extends Error {}

const MODEL = 'model.onnx';

function statOf(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The backend-test directories `paths` name: a directory with `model.onnx` is one test; one
 * without is a folder of tests (its subdirectories with `model.onnx`, sorted by name, as ONNX
 * ships them under `onnx/backend/test/data/pytorch-converted`). Each test once, in order.
 */
export function onnxTestDirectories(paths: readonly string[]): string[] {
  const found: string[] = [];
  for (const dir of paths) {
    const stats = statOf(dir);
    if (stats === undefined) throw new OnnxTestInputError(`${dir}: no such directory`);
    if (!stats.isDirectory()) {
      throw new OnnxTestInputError(`${dir}: not a directory (expected an ONNX backend-test directory: ${MODEL} and test_data_set_*/)`);
    }
    if (statOf(path.join(dir, MODEL)) !== undefined) {
      found.push(dir);
      continue;
    }
    const tests = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && statOf(path.join(dir, entry.name, MODEL)) !== undefined)
      .map((entry) => path.join(dir, entry.name))
      .sort();
    if (tests.length === 0) {
      throw new OnnxTestInputError(`${dir}: no ${MODEL} in it or in its subdirectories (expected an ONNX backend-test directory, or a folder of them)`);
    }
    found.push(...tests);
  }
  const seen = new Set<string>();
  return found.filter((dir) => {
    const key = path.resolve(dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Every case of the tests in `dirs` (see `onnxTestDirectories`), one per data set, named
 * `<test>/<data set>`, each with ONNX's own tolerance (what ONNX's runner judges every backend
 * by: the expected outputs were computed in float32 by PyTorch or onnxruntime). A file that
 * cannot be read, or one that is malformed, throws `OnnxTestInputError` naming it.
 */
export async function loadOnnxTestCases(paths: readonly string[]): Promise<{ readonly directories: string[]; readonly cases: ConformanceCase[] }> {
  const directories = onnxTestDirectories(paths);
  const cases: ConformanceCase[] = [];
  const names = new Map<string, string>();
  for (const dir of directories) {
    let loaded;
    try {
      loaded = await loadOnnxTest(dir);
    } catch (error) {
      // interop's InteropError (a BatchNormError) names the file; so do Node's fs errors (path)
      if (error instanceof BatchNormError) throw new OnnxTestInputError(error.message, { cause: error });
      const errno = error as NodeJS.ErrnoException;
      if (typeof errno?.code === 'string' && typeof errno.syscall === 'string') {
        throw new OnnxTestInputError(`${errno.path ?? dir}: cannot read it (${errno.code})`, { cause: error });
      }
      throw error;
    }
    for (const c of loaded) {
      // results are told apart by case name only
      const other = names.get(c.name);
      if (other !== undefined) throw new OnnxTestInputError(`${dir}: its case ${c.name} has the name of one in ${other} (two tests of one name)`);
      names.set(c.name, dir);
      cases.push(c);
    }
  }
  return { directories, cases };
}

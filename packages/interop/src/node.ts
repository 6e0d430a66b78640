/**
 * `@batchnorm/interop/node`: the file side, for Node (`node:fs`). The main entry encodes and
 * decodes bytes and runs anywhere, browsers included; this one reads and writes files: safetensors
 * with headers validated before the data is read, atomic writes (a temporary file beside the
 * target, then a rename; on failure no temporary file is left and the target is untouched), ONNX
 * models and ONNX backend-test directories.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic as writeFileAtomicSync } from '@batchnorm/core/node';
import { BatchNorm, BatchNormError, describeValue, type Backend, type BatchNormState, type TensorHandle } from '@batchnorm/core';
import { InteropError, malformed } from './errors.js';
import { decodeOnnxBackendTest, onnxTestCases, type OnnxBackendTest, type OnnxTestCaseOptions, type OnnxVectorCase } from './onnx/backendTest.js';
import { runOnnxCases, type OnnxCaseResult, type RunOnnxOptions } from './onnx/backendTestRun.js';
import { decodeOnnxModel } from './onnx/decode.js';
import { encodeOnnxModel } from './onnx/encode.js';
import type { OnnxModel } from './onnx/model.js';
import { encodeBatchNormSafetensors, type BatchNormWriteOptions } from './pytorch.js';
import {
  batchNormLayersFromSafetensors,
  batchNormStateFromSafetensors,
  type BatchNormLayersReadOptions,
  type BatchNormReadOptions,
} from './pytorchDecode.js';
import {
  parseSafetensorsHeader,
  safetensorsFromParts,
  safetensorsHeaderLength,
  type SafetensorsFile,
  type SafetensorsReadOptions,
} from './safetensors.js';
import { encodeSafetensors, type SafetensorsContent } from './safetensorsEncode.js';

function ioError(path: string, error: unknown, what: string): InteropError {
  const code = (error as NodeJS.ErrnoException)?.code;
  return new InteropError(
    {
      code: 'INVALID_ARGUMENT',
      file: path,
      argument: 'path',
      expected: what,
      received: code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'a directory' : String(code ?? error),
    },
    { cause: error },
  );
}

/**
 * Writes `bytes` to `path` atomically with `@batchnorm/core/node`'s `writeFileAtomic`: a temporary
 * file beside the target, flushed, then renamed over it (missing directories are made). If
 * anything fails the temporary file is removed and the target is as it was.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  writeFileAtomicSync(path, bytes);
}

/**
 * Reads a safetensors file: the 8-byte length first, checked against the file's size and the
 * header limit; then the header, validated (offsets, dtypes, shapes) against the size; only then
 * the data. Throws `InteropError` naming the file, tensor and field.
 */
export async function readSafetensorsFile(path: string, options: Omit<SafetensorsReadOptions, 'source'> = {}): Promise<SafetensorsFile> {
  const opts = { ...options, source: path };
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw ioError(path, error, 'a readable safetensors file');
  }
  try {
    const { size } = await handle.stat();
    if (!Number.isSafeInteger(size)) throw malformed({ file: path }, 'a file under 2^53 bytes', String(size));
    const first8 = new Uint8Array(8);
    await handle.read(first8, 0, Math.min(8, size), 0);
    const n = safetensorsHeaderLength(first8, size, opts);
    const headerBytes = new Uint8Array(n);
    await handle.read(headerBytes, 0, n, 8);
    const header = parseSafetensorsHeader(headerBytes, size - 8 - n, opts);
    const data = new Uint8Array(size - 8 - n);
    const { bytesRead } = await handle.read(data, 0, data.length, 8 + n);
    if (bytesRead !== data.length) {
      throw malformed({ file: path, field: 'data' }, `${data.length} bytes of tensor data`, `${bytesRead} (the file changed while read)`);
    }
    return safetensorsFromParts(header, data);
  } finally {
    await handle.close();
  }
}

/** Writes tensors (or encoded bytes) as a safetensors file, atomically. */
export async function writeSafetensorsFile(path: string, content: SafetensorsContent | Uint8Array): Promise<void> {
  await writeFileAtomic(path, content instanceof Uint8Array ? content : encodeSafetensors(content));
}

/** The layers to save: one layer (prefix `options.prefix`, default `""`), or prefix → layer or state. */
export type SavableLayers = BatchNorm | Readonly<Record<string, BatchNorm | BatchNormState>>;

/**
 * Saves BN layers as a safetensors file with PyTorch's names, atomically: one layer at
 * `options.prefix` (default `""`, a bare `BatchNorm*d`), or a model's layers by prefix
 * (`{ "bn1.": layer1, "bn2.": layer2 }`). Loads in PyTorch with `load_state_dict(strict=True)`.
 */
export async function saveBatchNorm(
  path: string,
  layers: SavableLayers,
  options: BatchNormWriteOptions & { readonly prefix?: string } = {},
): Promise<void> {
  const entries = layers instanceof BatchNorm ? { [options.prefix ?? '']: layers } : layers;
  if (typeof entries !== 'object' || entries === null) {
    throw new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'layers', expected: 'a BatchNorm, or an object { prefix: BatchNorm | state }', received: describeValue(layers) });
  }
  const states: Record<string, BatchNormState> = {};
  for (const [prefix, layer] of Object.entries(entries)) {
    states[prefix] = layer instanceof BatchNorm ? await layer.state() : layer;
  }
  await writeFileAtomic(path, encodeBatchNormSafetensors(states, options));
}

/**
 * Loads the BN layer under `options.prefix` (default `""`) of a safetensors file onto
 * `backend`. Settings: `options`, else the metadata this package wrote, else PyTorch's defaults
 * (layout `'NC'`: pass `layout` for `BatchNorm2d`/`3d` files from PyTorch).
 */
export async function loadBatchNorm<T extends TensorHandle, B extends Backend<T>>(
  path: string,
  backend: B & Backend<T>,
  options: BatchNormReadOptions & { readonly prefix?: string; readonly maxHeaderBytes?: number } = {},
): Promise<BatchNorm<T, B>> {
  const { prefix = '', maxHeaderBytes, ...read } = options;
  const file = await readSafetensorsFile(path, maxHeaderBytes === undefined ? {} : { maxHeaderBytes });
  return BatchNorm.fromState<T, B>(backend, batchNormStateFromSafetensors(file, prefix, read, path));
}

/** Every BN layer of a safetensors file, by prefix, on `backend` (other tensors are ignored). */
export async function loadBatchNormLayers<T extends TensorHandle, B extends Backend<T>>(
  path: string,
  backend: B & Backend<T>,
  options: Omit<BatchNormLayersReadOptions, 'source'> = {},
): Promise<Record<string, BatchNorm<T, B>>> {
  const file = await readSafetensorsFile(path, options.maxHeaderBytes === undefined ? {} : { maxHeaderBytes: options.maxHeaderBytes });
  const states = batchNormLayersFromSafetensors(file, { ...options, source: path });
  const layers: Record<string, BatchNorm<T, B>> = {};
  try {
    for (const [prefix, state] of Object.entries(states)) layers[prefix] = BatchNorm.fromState<T, B>(backend, state);
  } catch (error) {
    for (const layer of Object.values(layers)) layer.dispose();
    throw error;
  }
  return layers;
}

/** Reads and decodes an ONNX model file. */
export async function readOnnxFile(path: string): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw ioError(path, error, 'a readable ONNX model file');
  }
  return decodeOnnxModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Writes an ONNX model (or its bytes) atomically. */
export async function writeOnnxFile(path: string, model: OnnxModel | Uint8Array): Promise<void> {
  await writeFileAtomic(path, model instanceof Uint8Array ? model : encodeOnnxModel(model));
}

/** `prefix_<k>` entries of `names`, sorted by k; the k must run 0, 1, 2, … without gaps. */
function numbered(names: readonly string[], pattern: RegExp, where: string, what: string): string[] {
  const found = names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((e) => e.match !== null)
    .map((e) => ({ name: e.name, k: Number(e.match![1]) }))
    .sort((a, b) => a.k - b.k);
  found.forEach((e, i) => {
    if (e.k !== i) throw malformed({ file: where }, `${what} numbered 0, 1, 2, … without gaps`, found.map((f) => f.name).join(', '));
  });
  return found.map((e) => e.name);
}

/** Reads an ONNX backend-test directory: `model.onnx` and `test_data_set_*` of `input_*.pb`, `output_*.pb`. */
export async function readOnnxBackendTest(dir: string): Promise<OnnxBackendTest> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    entries = await readdir(dir);
  } catch (error) {
    throw ioError(dir, error, 'an ONNX backend-test directory (model.onnx, test_data_set_*/)');
  }
  if (!entries.includes('model.onnx')) {
    throw malformed({ file: dir }, 'an ONNX backend-test directory with model.onnx', `entries ${entries.slice(0, 8).join(', ') || '(none)'}`);
  }
  const model = await readFile(join(dir, 'model.onnx'));
  const setNames = numbered(entries, /^test_data_set_(\d+)$/, dir, 'test_data_set_<k> folders');
  const dataSets = [];
  for (const setName of setNames) {
    const setDir = join(dir, setName);
    const files = await readdir(setDir);
    const inputs = numbered(files, /^input_(\d+)\.pb$/, setDir, 'input_<j>.pb files');
    const outputs = numbered(files, /^output_(\d+)\.pb$/, setDir, 'output_<j>.pb files');
    dataSets.push({
      name: setName,
      inputs: await Promise.all(inputs.map(async (f) => new Uint8Array(await readFile(join(setDir, f))))),
      outputs: await Promise.all(outputs.map(async (f) => new Uint8Array(await readFile(join(setDir, f))))),
    });
  }
  return decodeOnnxBackendTest({ name: basename(dir), model: new Uint8Array(model), dataSets, source: dir });
}

/**
 * The conformance cases of an ONNX backend-test directory (one `BatchNormalization` node), in
 * `@batchnorm/conformance`'s `ConformanceCase` shape: hand them to its `runCases`.
 */
export async function loadOnnxTest(dir: string, options: OnnxTestCaseOptions = {}): Promise<OnnxVectorCase[]> {
  return onnxTestCases(await readOnnxBackendTest(dir), options);
}

/**
 * Runs an ONNX backend-test directory through the `BatchNorm` layer on `backend`: one result per
 * data set, in the shape of `@batchnorm/conformance`'s `CaseResult`. Throws `InteropError` for a
 * directory it cannot read; a case that fails on the backend is a failed result.
 */
export async function runOnnxTest<T extends TensorHandle>(
  dir: string,
  backend: Backend<T>,
  options: RunOnnxOptions & OnnxTestCaseOptions = {},
): Promise<OnnxCaseResult[]> {
  return runOnnxCases(await loadOnnxTest(dir, options), backend, options);
}

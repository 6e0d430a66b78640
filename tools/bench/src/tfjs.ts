import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (tf.grads would throw "gradient function not found");
// the @tensorflow/tfjs bundle registers them all, in the engine's global registry.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { firstLine, type TfjsEngine } from './names.js';

export { tf };

export type { TfjsEngine } from './names.js';

const require = createRequire(import.meta.url);
let wasmPathsSet = false;
let nodeLoad: Promise<string | undefined> | undefined;

/**
 * Loads tfjs-node (registers the `tensorflow` engine). Returns why it is unavailable, or
 * undefined. Its native binding is built by packages/backend-tfjs-node/scripts/setup-native.mjs.
 */
export function loadTfjsNode(): Promise<string | undefined> {
  nodeLoad ??= import('@tensorflow/tfjs-node').then(
    () => undefined,
    (error: unknown) =>
      `@tensorflow/tfjs-node did not load (${firstLine(error)}); run node packages/backend-tfjs-node/scripts/setup-native.mjs`,
  );
  return nodeLoad;
}

/** Makes `engine` the active tfjs backend; returns why it cannot be, or undefined. */
export async function activateTfjs(engine: TfjsEngine): Promise<string | undefined> {
  if (engine === 'wasm' && !wasmPathsSet) {
    // In Node the wasm binaries are read from the package's own dist directory.
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
  if (engine === 'tensorflow') {
    const reason = await loadTfjsNode();
    if (reason !== undefined) return reason;
  }
  try {
    if (!(await tf.setBackend(engine))) return `tfjs backend "${engine}" failed to initialise`;
  } catch (error) {
    return `tfjs backend "${engine}" failed to initialise: ${firstLine(error)}`;
  }
  await tf.ready();
  return undefined;
}

/** Facts about the active engine for the report. */
export async function tfjsDetails(engine: TfjsEngine): Promise<Record<string, string | number | boolean>> {
  const details: Record<string, string | number | boolean> = { tfjs: tf.version_core, engine };
  if (engine === 'wasm') {
    details.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    details.threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  }
  return details;
}

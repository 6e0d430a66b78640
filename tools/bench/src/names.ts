import { KNOWN_BACKENDS, referenceBackendModule } from '@batchnorm/core';

/**
 * Names of everything the bench can run, kept free of TensorFlow.js imports so that parsing
 * arguments and running only our backends never loads it.
 */

/** TensorFlow.js engines the anchors run on, by tfjs backend name. */
export type TfjsEngine = 'cpu' | 'wasm' | 'tensorflow';

/**
 * Our backends in report order: core's one list of backend packages, then the built-in reference
 * (timed on small shapes only).
 */
export const OUR_BACKENDS: readonly string[] = [...KNOWN_BACKENDS.map((k) => k.name), referenceBackendModule.name];
export const ANCHOR_ENGINES: readonly TfjsEngine[] = ['tensorflow', 'wasm', 'cpu'];

/** Report names of the composed (moments + batchNorm) anchors. */
export const TFJS_ANCHOR_NAMES: Readonly<Record<TfjsEngine, string>> = {
  cpu: 'tfjs-cpu',
  wasm: 'tfjs-wasm',
  tensorflow: 'tfjs-node-composed',
};

/** Report names of the TensorFlow.js layers MNIST anchors. */
export const TFJS_LAYERS_NAMES: Readonly<Record<TfjsEngine, string>> = {
  tensorflow: 'tfjs-layers-node',
  wasm: 'tfjs-layers-wasm',
  cpu: 'tfjs-layers-cpu',
};

/** The report name of the PyTorch CPU anchor (a child process, when python has torch). */
export const PYTORCH_NAME = 'pytorch';

/** The first line of an error's message, for one-line reports. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 200);
}

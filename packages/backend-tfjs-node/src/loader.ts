import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BatchNormError } from '@batchnorm/core';
import type { KernelBackend } from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend.js';
import { SETUP_HINT, tfjsNodeBindingPath } from './binding.js';
import { setTensorFlowEnvironmentDefaults } from './environment.js';

export type TfModule = typeof import('@tensorflow/tfjs-node');

export interface LoadedTensorFlow {
  readonly tf: TfModule;
  /** tfjs-node's kernel backend: runs any TensorFlow op by name. */
  readonly native: NodeJSKernelBackend;
}

export interface LoadOptions {
  /** Where the binding is expected; by default where tfjs-node itself looks. For diagnostics. */
  readonly bindingPath?: string;
}

function isNodeJSKernelBackend(backend: KernelBackend): backend is NodeJSKernelBackend {
  return 'binding' in backend && 'executeMultipleOutputs' in backend;
}

function unavailable(received: string, cause?: unknown): BatchNormError {
  return new BatchNormError(
    {
      code: 'BACKEND_UNAVAILABLE',
      argument: 'backend',
      expected: "tfjs-node's native TensorFlow binding to be built and loadable",
      received,
      hint: SETUP_HINT,
    },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Loads tfjs-node (after setting TensorFlow's environment defaults) and checks its binding first,
 * so a missing build gives a `BatchNormError` naming the setup command rather than tfjs-node's
 * stack trace.
 */
export function loadTensorFlow(options: LoadOptions = {}): LoadedTensorFlow {
  setTensorFlowEnvironmentDefaults();
  const bindingPath = options.bindingPath ?? tfjsNodeBindingPath();
  if (!fs.existsSync(bindingPath)) {
    throw unavailable(`no binding at ${path.normalize(bindingPath)}`);
  }
  let tf: TfModule;
  try {
    tf = createRequire(import.meta.url)('@tensorflow/tfjs-node');
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw unavailable(`an error loading it (${message})`, error);
  }
  // tfjs ops run on the engine's current backend: it must be TensorFlow's. Switching to it is
  // synchronous (its factory is), although setBackend returns a promise.
  if (tf.getBackend() !== 'tensorflow') void tf.setBackend('tensorflow');
  const native = tf.backend();
  if (!isNodeJSKernelBackend(native)) {
    throw unavailable(`tfjs backend "${tf.getBackend()}" instead of "tensorflow"`);
  }
  return { tf, native };
}

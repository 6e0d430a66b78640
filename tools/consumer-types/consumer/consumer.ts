// A user's file, compiled (never run) against the built packages' declarations by
// src/consumer.test.ts: strict, skipLibCheck off, with the oldest supported TypeScript and the
// repository's, under node16 and bundler resolution. Each `@ts-expect-error` line is a call the
// types must refuse: if a type stops refusing it, the directive itself becomes the error.
import { BatchNorm, createReferenceBackend, loadBackend, type Backend, type BatchNormError, type TensorData } from '@batchnorm/core';
import * as gpujs from '@batchnorm/backend-gpujs';
import * as js from '@batchnorm/backend-js';
import * as tfjsNode from '@batchnorm/backend-tfjs-node';
import * as webgpu from '@batchnorm/backend-webgpu';
import * as conformance from '@batchnorm/conformance';
import * as interop from '@batchnorm/interop';

/** One training step on any backend, read back through the contract's one required read. */
export async function trainingStep(backend: Backend): Promise<TensorData> {
  const bn = new BatchNorm(backend, { numFeatures: 4, layout: 'NC' });
  const x = backend.upload(new Float32Array(32), [8, 4]);
  const y = bn.forward(x);
  const dx = bn.backward(backend.upload(new Float32Array(32).fill(1), [8, 4]));
  bn.sgdStep(0.1);
  const values = await backend.read(dx);
  for (const t of [x, y, dx]) backend.dispose(t);
  bn.dispose();
  return values;
}

export async function everyBackend(): Promise<void> {
  await trainingStep(createReferenceBackend());
  await trainingStep(js.createBackend({ threads: 1, simd: false }));
  await trainingStep(gpujs.createBackend({ mode: 'cpu' }));
  await trainingStep(tfjsNode.createBackend());
  await trainingStep(await webgpu.createBackend());
  await trainingStep(await loadBackend('js', {}, (specifier) => import(specifier)));
  for (const module of [js.backendModule, gpujs.backendModule, tfjsNode.backendModule, webgpu.backendModule]) {
    console.log(module.name, module.traits.tolerance);
  }
}

/** What the backends' own types say, beyond the contract. */
export function backendTypes(): void {
  const gpu = gpujs.createBackend({ mode: 'auto' });
  const mode: gpujs.GpuJsMode = gpu.mode;
  const modes: readonly gpujs.GpuJsModeOption[] = gpujs.GPU_JS_MODES;
  console.log(mode, modes, gpu.readbacks, gpu.readSync(gpu.upload(Float32Array.of(1), [1])));

  const tf = tfjsNode.createBackend({});
  const t: tfjsNode.TfjsNodeTensor = tf.upload(Float32Array.of(1, 2), [2]);
  // the handle's TensorFlow tensor, outlined by the package's own type (no tfjs declarations loaded)
  const tensor: tfjsNode.TensorFlowTensor = t.tensor;
  console.log(tensor.shape, tensor.isDisposed, tfjsNode.SETUP_COMMAND, tfjsNode.KERNEL_ROUTES.layouts);
}

/** Options the backends do not have are type errors (and typed errors at run time). */
export function rejectedOptions(): void {
  // @ts-expect-error -- misspelled `mode`
  gpujs.createBackend({ mdoe: 'cpu' });
  // @ts-expect-error -- not a gpu.js mode
  gpujs.createBackend({ mode: 'metal' });
  // @ts-expect-error -- tfjs-node takes no options
  tfjsNode.createBackend({ mode: 'cpu' });
  // @ts-expect-error -- misspelled `threads`
  js.createBackend({ thread: 2 });
}

export function errorsAndTools(error: BatchNormError): string {
  const profile: conformance.ToleranceProfile = conformance.TOLERANCE_PROFILES.float32;
  console.log(profile, interop.fromPyTorch);
  return `${error.code} ${error.argument}`;
}

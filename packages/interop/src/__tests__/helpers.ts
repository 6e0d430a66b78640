import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncOnly, createReferenceBackend, type Backend } from '@batchnorm/core';
import ort from 'onnxruntime-node';

/** packages/interop/fixtures */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/**
 * The backends interop's own tests run on: core's float64 reference, and the same behind
 * `asyncOnly` (reads only through `await read`, as WebGPU's), so nothing here relies on a
 * synchronous read. This package depends on no backend: tools/interop-backends runs the fixtures
 * on every backend of core's KNOWN_BACKENDS.
 */
export function testBackends(): { readonly name: string; readonly backend: Backend; readonly destroy: () => void }[] {
  return [
    { name: 'reference', backend: createReferenceBackend(), destroy: () => {} },
    { name: 'reference (async-only)', backend: asyncOnly(createReferenceBackend()), destroy: () => {} },
  ];
}

/** Runs ONNX bytes in onnxruntime-node (CPU) with float32 feeds; returns every output by name. */
export async function runOrt(
  model: Uint8Array,
  feeds: Readonly<Record<string, { readonly data: ArrayLike<number>; readonly dims: readonly number[] }>>,
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  try {
    const inputs: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', Float32Array.from(data), [...dims]);
    const results = await session.run(inputs);
    const out: Record<string, Float32Array> = {};
    for (const [name, tensor] of Object.entries(results)) out[name] = tensor.data as Float32Array;
    return out;
  } finally {
    await session.release();
  }
}

/** numpy's allclose, for assertions: the worst |got − want| / (atol + rtol·|want|) (< 1 passes). */
export function toleranceRatio(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    if (!Number.isFinite(error)) return Infinity;
    worst = Math.max(worst, error / (atol + rtol * Math.abs(want[i]!)));
  }
  return worst;
}

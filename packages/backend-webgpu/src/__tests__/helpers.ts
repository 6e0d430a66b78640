import { createReferenceBackend, type BackendDetails, type TensorData, type ToleranceProfileName } from '@batchnorm/core';
import { compareOutputs, profileFor, type ConformanceCase, type Tally } from '@batchnorm/conformance';
import { randomFloat32 } from '@batchnorm/conformance/testing';
import { expect } from 'vitest';
import { backendOn, SHADERS, shaderConfig } from '../assemble.js';
import { KernelContext } from '../context.js';
import { acquireDevice, type AcquireOptions } from '../device.js';
import type { WebGpuBackend } from '../types.js';

// the conformance grid's batches (value regimes named by what they probe), shared by every backend's tests
export { batchInput, type Regime } from '@batchnorm/conformance/testing';

export const reference = createReferenceBackend();

/** Seeded values `offset + scale·N(0, 1)`, rounded to float32 (what both backends see). */
export function randomValues(seed: number, length: number, scale = 1, offset = 0): Float64Array {
  return Float64Array.from(randomFloat32(seed, length, scale, offset));
}

/** A backend built on an internal device, with its context exposed (limits, device loss). */
export async function internalBackend(
  options: Partial<AcquireOptions> = {},
): Promise<{ backend: WebGpuBackend; ctx: KernelContext; device: GPUDevice }> {
  const acquired = await acquireDevice({ subgroups: true, ...options });
  const config = shaderConfig(acquired.device.limits, acquired.subgroups.enabled);
  const ctx = new KernelContext(acquired.gpu, acquired.device, config, 1 << 26);
  await ctx.prepare(SHADERS);
  const details: BackendDetails = { adapter: acquired.info.description };
  return { backend: backendOn(ctx, details), ctx, device: acquired.device };
}

/** Fails with the first value outside the conformance suite's tolerance for `profile`. */
export function expectWithinTolerance(
  c: ConformanceCase,
  got: Readonly<Record<string, ArrayLike<number>>>,
  profile: ToleranceProfileName,
): Tally {
  const tally = compareOutputs(c, got, profileFor(profile));
  expect(tally.mismatches, `${c.name}: ${tally.message ?? ''}`).toBe(0);
  return tally;
}

/** The float32 bits of `values`, for bit-identity checks. */
export function bits(values: TensorData): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}

/** How many of the float32 values differ in any bit (0 for bit-identical arrays). */
export function bitDifferences(a: TensorData, b: TensorData): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  const [x, y] = [bits(a), bits(b)];
  let count = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) count++;
  return count;
}

import {
  createRandom,
  createReferenceBackend,
  flatIndex,
  geometryOf,
  type BackendDetails,
  type Layout,
  type Shape,
  type TensorData,
  type ToleranceProfileName,
} from '@batchnorm/core';
import { compareOutputs, profileFor, type ConformanceCase, type Tally } from '@batchnorm/conformance';
import { expect } from 'vitest';
import { backendOn, SHADERS, shaderConfig } from '../backend.js';
import { GpuContext } from '../context.js';
import { acquireDevice, type AcquireOptions } from '../device.js';
import type { WebGpuBackend } from '../types.js';

export const reference = createReferenceBackend();

/** Seeded values `offset + scale·N(0, 1)`, rounded to float32 (what both backends see). */
export function randomValues(seed: number, length: number, scale = 1, offset = 0): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length }, () => Math.fround(offset + scale * random.normal()));
}

/** A backend built on an internal device, with its context exposed (limits, device loss). */
export async function internalBackend(
  options: Partial<AcquireOptions> = {},
): Promise<{ backend: WebGpuBackend; ctx: GpuContext; device: GPUDevice }> {
  const acquired = await acquireDevice({ subgroups: true, ...options });
  const config = shaderConfig(acquired.device.limits, acquired.subgroups.enabled);
  const ctx = new GpuContext(acquired.gpu, acquired.device, config, 1 << 26);
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

/** Value regimes of the batch-norm tests (as the conformance grid's). */
export type Regime = 'unit' | 'offset1e4' | 'constantFeature' | 'mixed';

/** `x` in `layout`, each feature `offset + scale·N(0, 1)` after its regime, float32-rounded. */
export function batchInput(layout: Layout, shape: Shape, regime: Regime, seed: number): Float64Array {
  const g = geometryOf(layout, shape);
  const random = createRandom(seed);
  const features = Array.from({ length: g.c }, (_, k) => {
    switch (regime) {
      case 'unit':
        return { offset: 0, scale: 1 };
      case 'offset1e4':
        return { offset: 1e4, scale: 1 };
      case 'constantFeature':
        return k === 0 ? { offset: 3.25, scale: 0 } : { offset: 0, scale: 1 };
      case 'mixed': {
        const scale = 10 ** (4 * random.uniform() - 2);
        return { offset: (random.uniform() - 0.5) * 20 * scale, scale };
      }
    }
  });
  const x = new Float64Array(g.size);
  for (let n = 0; n < g.n; n++) {
    for (let c = 0; c < g.c; c++) {
      const { offset, scale } = features[c]!;
      for (let s = 0; s < g.spatial; s++) x[flatIndex(g, n, c, s)] = Math.fround(offset + scale * random.normal());
    }
  }
  return x;
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

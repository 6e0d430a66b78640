import { geometryOf, type Layout } from '@batchnorm/core';
import { compareOutputs, profileFor, type ConformanceCase } from '@batchnorm/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchInput, internalBackend, randomValues, reference } from './__tests__/helpers.js';
import type { KernelContext } from './context.js';
import type { Shader } from './dispatch.js';
import { batchNormForwardTraining } from './kernels/batchNormForwardTraining.js';
import { batchNormNormalize, batchNormStatistics } from './kernels/batchNormForwardTraining.wgsl.js';
import { gpuTensor } from './tensor.js';
import type { WebGpuBackend } from './types.js';

/**
 * Features of mean 1e4 and standard deviation 1: the shifted sums stay within the conformance
 * suite's float32 tolerance, and the same two kernels with the shift taken out (the one-pass
 * `E[x²] − E[x]²`) do not. Both run on this device, same sums, same order.
 */

/** The kernel's own shader with `shift = 0`: plain one-pass sums of `x` and `x²`. */
function unshifted(shader: Shader): Shader {
  const line = 'let shift = x[c * p.inner];';
  return {
    label: `${shader.label} (one-pass, unshifted)`,
    source: (config) => {
      const code = shader.source(config);
      if (!code.includes(line)) throw new Error(`${shader.label} has no "${line}" to take out`);
      return code.replace(line, 'let shift = 0.0;');
    },
  };
}
const ONE_PASS = [unshifted(batchNormStatistics), unshifted(batchNormNormalize)] as const;

let backend: WebGpuBackend;
let ctx: KernelContext;
beforeAll(async () => {
  ({ backend, ctx } = await internalBackend());
});
afterAll(() => backend?.destroy());

const CASES: [Layout, number[]][] = [
  ['NC', [4096, 16]],
  ['NCHW', [16, 3, 33, 33]],
  ['NHWC', [8, 40, 40, 3]],
];

describe('features of mean 1e4 and standard deviation 1', () => {
  it.each(CASES)('%s %j: within the float32 tolerance, where the one-pass E[x²] − E[x]² is not', async (layout, shape) => {
    const g = geometryOf(layout, shape);
    const x = batchInput(layout, shape, 'offset1e4', 77);
    const gamma = randomValues(78, g.c, 0.5, 1);
    const beta = randomValues(79, g.c, 0.5);
    const attrs = { layout, epsilon: 1e-5 };
    const want = reference.batchNormForwardTraining(
      { x: reference.upload(x, shape), gamma: reference.upload(gamma, [g.c]), beta: reference.upload(beta, [g.c]) },
      attrs,
    );
    const c: ConformanceCase = {
      name: `forwardTraining/${layout}/${shape.join('x')}/offset1e4`,
      op: 'forwardTraining',
      layout,
      shape,
      epsilon: attrs.epsilon,
      inputs: { x, gamma, beta },
      expected: { y: want.y.data, mean: want.mean.data, variance: want.variance.data },
    };
    const inputs = {
      x: backend.upload(Float32Array.from(x), shape),
      gamma: backend.upload(Float32Array.from(gamma), [g.c]),
      beta: backend.upload(Float32Array.from(beta), [g.c]),
    };
    // the kernel function itself, beneath the backend's handle guard: its outputs are read and
    // released through the context
    const run = async (variant?: typeof ONE_PASS) => {
      const out = batchNormForwardTraining(ctx, inputs, attrs, variant);
      const outputs = [out.y, out.mean, out.variance].map((t) => gpuTensor(t, 'out', ctx));
      const [y, mean, variance] = await Promise.all(outputs.map((t) => ctx.read(t)));
      ctx.disposeSaved(out.saved);
      for (const t of outputs) ctx.dispose(t);
      return compareOutputs(c, { y, mean, variance }, profileFor('float32'));
    };
    const shifted = await run();
    const onePass = await run(ONE_PASS);
    for (const t of Object.values(inputs)) backend.dispose(t);

    expect(shifted.mismatches, shifted.message).toBe(0);
    // with room to spare, not by luck
    expect(shifted.toleranceRatio).toBeLessThan(0.5);
    expect(onePass.mismatches).toBeGreaterThan(0);
    expect(onePass.toleranceRatio).toBeGreaterThan(10);
  });
});

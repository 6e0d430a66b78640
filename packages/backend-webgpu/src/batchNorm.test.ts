import { geometryOf, LAYOUTS, type Layout, type Shape } from '@batchnorm/core';
import type { ConformanceCase } from '@batchnorm/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchInput, expectWithinTolerance, randomValues, reference, type Regime } from './__tests__/helpers.js';
import { createBackend } from './index.js';
import type { WebGpuBackend } from './types.js';

/**
 * Every batch-norm kernel against the float64 reference, in every layout, judged with the
 * conformance suite's derived tolerances for plain float32 arithmetic (the `float32` profile, the
 * manifest's), on shapes beyond the suite's: features of several chunks and of over 64 chunks.
 */

const EPSILON = 1e-5;

/** A small shape with odd sizes, and one whose features hold several chunks (m > 4096: 4+ chunks of 1,024). */
const SHAPES: Readonly<Record<Layout, readonly Shape[]>> = {
  NC: [[7, 13], [5000, 3]],
  NCL: [[3, 2, 5], [3, 4, 1700]],
  NLC: [[3, 5, 2], [3, 1700, 4]],
  NCHW: [[2, 7, 3, 5], [8, 3, 30, 30]],
  NHWC: [[2, 3, 5, 7], [8, 30, 30, 3]],
  NCDHW: [[2, 3, 2, 1, 3], [2, 2, 10, 20, 20]],
  NDHWC: [[2, 2, 1, 3, 3], [2, 10, 20, 20, 2]],
};
const REGIMES: readonly Regime[] = ['unit', 'offset1e4', 'constantFeature', 'mixed'];

let backend: WebGpuBackend;
beforeAll(async () => {
  backend = await createBackend();
});
afterAll(() => backend?.destroy());

async function checkAllThree(layout: Layout, shape: Shape, regime: Regime, seed: number): Promise<void> {
  const g = geometryOf(layout, shape);
  const x = batchInput(layout, shape, regime, seed);
  const gamma = randomValues(seed + 1, g.c, 0.5, 1);
  const beta = randomValues(seed + 2, g.c, 0.5);
  const dy = randomValues(seed + 3, g.size);
  const runningMean = Float64Array.from({ length: g.c }, (_, c) => Math.fround(x[c * (g.channelsLast ? 1 : g.spatial)]! + 0.1));
  const runningVar = randomValues(seed + 4, g.c, 0.1, 1);
  const attrs = { layout, epsilon: EPSILON };
  const name = `${layout}/${shape.join('x')}/${regime}`;

  const rx = reference.upload(x, shape);
  const rgamma = reference.upload(gamma, [g.c]);
  const rbeta = reference.upload(beta, [g.c]);
  const want = reference.batchNormForwardTraining({ x: rx, gamma: rgamma, beta: rbeta }, attrs);
  const wantInference = reference.batchNormForwardInference(
    { x: rx, gamma: rgamma, beta: rbeta, mean: reference.upload(runningMean, [g.c]), variance: reference.upload(runningVar, [g.c]) },
    attrs,
  );
  const wantBackward = reference.batchNormBackward({ dy: reference.upload(dy, shape), x: rx, gamma: rgamma, saved: want.saved }, attrs);

  const b = backend;
  const up = (v: Float64Array, s: Shape) => b.upload(Float32Array.from(v), s);
  const xt = up(x, shape);
  const gammaT = up(gamma, [g.c]);
  const betaT = up(beta, [g.c]);
  const dyT = up(dy, shape);
  const meanT = up(runningMean, [g.c]);
  const varT = up(runningVar, [g.c]);
  const out = b.batchNormForwardTraining({ x: xt, gamma: gammaT, beta: betaT }, attrs);
  const inference = b.batchNormForwardInference({ x: xt, gamma: gammaT, beta: betaT, mean: meanT, variance: varT }, attrs);
  const grads = b.batchNormBackward({ dy: dyT, x: xt, gamma: gammaT, saved: out.saved }, attrs);
  const [y, mean, variance, yInference, dx, dgamma, dbeta] = await Promise.all(
    [out.y, out.mean, out.variance, inference, grads.dx, grads.dgamma, grads.dbeta].map((t) => b.read(t)),
  );
  b.disposeSaved(out.saved);
  for (const t of [xt, gammaT, betaT, dyT, meanT, varT, out.y, out.mean, out.variance, inference, grads.dx, grads.dgamma, grads.dbeta]) {
    b.dispose(t);
  }

  const base = { layout, shape, epsilon: EPSILON };
  const forwardCase: ConformanceCase = {
    ...base,
    name: `forwardTraining/${name}`,
    op: 'forwardTraining',
    inputs: { x, gamma, beta },
    expected: { y: want.y.data, mean: want.mean.data, variance: want.variance.data },
  };
  const inferenceCase: ConformanceCase = {
    ...base,
    name: `forwardInference/${name}`,
    op: 'forwardInference',
    inputs: { x, gamma, beta, runningMean, runningVar },
    expected: { y: wantInference.data },
  };
  const backwardCase: ConformanceCase = {
    ...base,
    name: `backward/${name}`,
    op: 'backward',
    inputs: { x, gamma, dy },
    expected: { dx: wantBackward.dx.data, dgamma: wantBackward.dgamma.data, dbeta: wantBackward.dbeta.data },
  };
  expectWithinTolerance(forwardCase, { y: y!, mean: mean!, variance: variance! }, 'float32');
  expectWithinTolerance(inferenceCase, { y: yInference! }, 'float32');
  expectWithinTolerance(backwardCase, { dx: dx!, dgamma: dgamma!, dbeta: dbeta! }, 'float32');
  if (regime === 'constantFeature') {
    // feature 0 has no variance: x̂ = 0 exactly, so y = β and σ² = 0
    const first = Array.from({ length: g.m }, (_, t) => {
      const o = Math.floor(t / (g.channelsLast ? 1 : g.spatial));
      const i = t % (g.channelsLast ? 1 : g.spatial);
      return y![(o * g.c + 0) * (g.channelsLast ? 1 : g.spatial) + i]!;
    });
    expect(new Set(first)).toEqual(new Set([Math.fround(beta[0]!)]));
    expect(variance![0]).toBe(0);
  }
}

describe('batch-norm kernels against the reference (float32 tolerances)', () => {
  let seed = 100;
  for (const layout of LAYOUTS) {
    for (const shape of SHAPES[layout]) {
      for (const regime of REGIMES) {
        const s = (seed += 10);
        it(`${layout} [${shape.join(', ')}] ${regime}: training forward, inference, backward`, () =>
          checkAllThree(layout, shape, regime, s));
      }
    }
  }

  it('a feature larger than 64 chunks of 1,024 (the chunk grows): NC [300000, 2], offset 1e4', () =>
    checkAllThree('NC', [300_000, 2], 'offset1e4', 7));
});

import {
  createRandom,
  flatIndex,
  geometryOf,
  runningAverageAttrs,
  type Layout,
  type ReferenceTensor,
  type SeededRandom,
  type VarianceCorrection,
} from '@batchnorm/core';
import { f32, float32Array, reference, seedOf } from './gridValues.js';
import type { BatchNormOp, ConformanceCase } from './types.js';

export const EPSILON = 1e-5;

/** Value regimes of the batch-norm cases; each name says what it probes. */
export const REGIMES = ['unit', 'offset1e3', 'offset1e4', 'tinyVariance', 'constantFeature', 'mixed'] as const;
export type Regime = (typeof REGIMES)[number];

interface FeatureDistribution {
  readonly offset: number;
  readonly scale: number;
}

function featureDistributions(regime: Regime, c: number, random: SeededRandom): FeatureDistribution[] {
  return Array.from({ length: c }, (_, k) => {
    switch (regime) {
      case 'unit':
        return { offset: 0, scale: 1 };
      case 'offset1e3':
        return { offset: 1e3, scale: 1 };
      case 'offset1e4':
        return { offset: 1e4, scale: 1 };
      case 'tinyVariance':
        // σ² = 1e-6 < ε = 1e-5: ε weighs in the normalization
        return { offset: 0.5, scale: 1e-3 };
      case 'constantFeature':
        // feature 0 has no variance at all: the output is decided by ε (and must be β)
        return k === 0 ? { offset: 3.25, scale: 0 } : { offset: 0, scale: 1 };
      case 'mixed': {
        const scale = 10 ** (4 * random.uniform() - 2);
        return { offset: (random.uniform() - 0.5) * 20 * scale, scale };
      }
    }
  });
}

/** `x` of geometry `shape` in `layout`, each feature from its distribution, float32-rounded. */
export function drawBatch(layout: Layout, shape: readonly number[], regime: Regime, random: SeededRandom) {
  const g = geometryOf(layout, shape);
  const features = featureDistributions(regime, g.c, random);
  const x = new Float64Array(g.size);
  for (let n = 0; n < g.n; n++) {
    for (let c = 0; c < g.c; c++) {
      const { offset, scale } = features[c]!;
      for (let s = 0; s < g.spatial; s++) x[flatIndex(g, n, c, s)] = f32(offset + scale * random.normal());
    }
  }
  return { g, x, features };
}

const upload = (data: Float64Array, shape: readonly number[]): ReferenceTensor => reference.upload(data, shape);

/**
 * One batch-norm case, named `op/layout/shape/regime`, with its expected outputs from the float64
 * reference. The random draws happen in a fixed order per case (the shipped vectors depend on it).
 */
export function batchNormCase(op: BatchNormOp, layout: Layout, shape: readonly number[], regime: Regime): ConformanceCase {
  const name = `${op}/${layout}/${shape.join('x')}/${regime}`;
  const random = createRandom(seedOf(name));
  const { g, x, features } = drawBatch(layout, shape, regime, random);
  const signs = regime === 'mixed';
  const gamma = float32Array(g.c, () =>
    signs ? (random.uniform() < 0.5 ? -1 : 1) * 10 ** (2 * random.uniform() - 1) : 1 + 0.5 * random.normal(),
  );
  const beta = float32Array(g.c, () => 0.5 * random.normal());
  const attrs = { layout, epsilon: EPSILON };
  const common = { name, op, layout, shape, epsilon: EPSILON };
  const xt = upload(x, shape);
  const gammaT = upload(gamma, [g.c]);
  const betaT = upload(beta, [g.c]);
  if (op === 'forwardInference') {
    // population statistics near the batch's, so the output is of order γ
    const runningMean = float32Array(g.c, (c) => features[c]!.offset + 0.1 * features[c]!.scale * random.normal());
    const runningVar = float32Array(g.c, (c) => features[c]!.scale ** 2 * (0.8 + 0.4 * random.uniform()));
    const y = reference.batchNormForwardInference(
      { x: xt, gamma: gammaT, beta: betaT, mean: upload(runningMean, [g.c]), variance: upload(runningVar, [g.c]) },
      attrs,
    );
    return { ...common, inputs: { x, gamma, beta, runningMean, runningVar }, expected: { y: y.data } };
  }
  const { y, mean, variance, saved } = reference.batchNormForwardTraining({ x: xt, gamma: gammaT, beta: betaT }, attrs);
  if (op === 'forwardTraining') {
    // vary the running-average attrs across cases, deterministically
    const momentum = [0.1, 0.3, 1, 0][seedOf(name) % 4]!;
    const varianceCorrection: VarianceCorrection = seedOf(name, 7) % 2 === 0 ? 'unbiased' : 'biased';
    const runningMeanIn = float32Array(g.c, () => random.normal());
    const runningVarIn = float32Array(g.c, () => 0.5 + random.uniform());
    const running = runningAverageAttrs(momentum, varianceCorrection, g.m);
    const runningMean = reference.runningAverage({ running: upload(runningMeanIn, [g.c]), batch: mean }, running.mean);
    const runningVar = reference.runningAverage({ running: upload(runningVarIn, [g.c]), batch: variance }, running.variance);
    return {
      ...common,
      attrs: { momentum, varianceCorrection },
      inputs: { x, gamma, beta, runningMean: runningMeanIn, runningVar: runningVarIn },
      expected: { y: y.data, mean: mean.data, variance: variance.data, runningMean: runningMean.data, runningVar: runningVar.data },
    };
  }
  const dy = float32Array(g.size, () => (signs ? random.normal() * 10 ** (2 * random.uniform() - 1) : random.normal()));
  const { dx, dgamma, dbeta } = reference.batchNormBackward({ dy: upload(dy, shape), x: xt, gamma: gammaT, saved }, attrs);
  return { ...common, inputs: { x, gamma, dy }, expected: { dx: dx.data, dgamma: dgamma.data, dbeta: dbeta.data } };
}

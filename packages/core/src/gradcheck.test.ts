import { describe, expect, it } from 'vitest';
import { randomArray, reference, tensor, values } from './__tests__/helpers.js';
import { flatIndex, geometryOf } from './layout.js';
import type { Layout, Shape } from './types.js';

/**
 * Finite-difference check of the reference backward against its own forward, in float64.
 * The loss is `l = Σ dy·y`, so `∂l/∂x`, `∂l/∂γ`, `∂l/∂β` are what the backward returns for `dy`.
 * Central differences with step h have error O(h²) plus rounding O(ε_machine·|l|/h).
 */
const STEP = 1e-5;
const MAX_RELATIVE_ERROR = 1e-6;

/** |a − n| / max(|a|, |n|), with a floor so values that are both ≈ 0 count as equal. */
function maxRelativeError(analytic: ArrayLike<number>, numeric: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    worst = Math.max(worst, Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), 1e-6));
  }
  return worst;
}

const cases: { layout: Layout; shape: Shape; epsilon: number }[] = [
  { layout: 'NC', shape: [7, 5], epsilon: 1e-5 },
  { layout: 'NCHW', shape: [3, 5, 3, 7], epsilon: 1e-3 },
  { layout: 'NHWC', shape: [3, 5, 3, 7], epsilon: 0.1 },
];

describe.each(cases)('gradient check, $layout $shape, ε = $epsilon', ({ layout, shape, epsilon }) => {
  const g = geometryOf(layout, shape);
  const seed = 100 * shape.reduce((a, b) => a + b, 0);
  const x = randomArray(seed + 1, g.size, 1.7, 0.3);
  const dy = randomArray(seed + 2, g.size);
  const gamma = randomArray(seed + 3, g.c, 1.5);
  const beta = randomArray(seed + 4, g.c);
  const attrs = { layout, epsilon };

  // The loss restricted to feature c: ∂l/∂(anything of feature c) only depends on these terms,
  // and summing fewer terms keeps the rounding of l small.
  function featureLoss(c: number, xs: Float64Array, gammas: Float64Array, betas: Float64Array): number {
    const y = reference.batchNormForwardTraining(
      { x: tensor(xs, shape), gamma: tensor(gammas, [g.c]), beta: tensor(betas, [g.c]) },
      attrs,
    ).y.data;
    let loss = 0;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        loss += dy[i]! * y[i]!;
      }
    }
    return loss;
  }

  function centralDifference(values: Float64Array, i: number, loss: () => number): number {
    const saved = values[i]!;
    values[i] = saved + STEP;
    const plus = loss();
    values[i] = saved - STEP;
    const minus = loss();
    values[i] = saved;
    return (plus - minus) / (2 * STEP);
  }

  const forward = reference.batchNormForwardTraining(
    { x: tensor(x, shape), gamma: tensor(gamma, [g.c]), beta: tensor(beta, [g.c]) },
    attrs,
  );
  const analytic = reference.batchNormBackward(
    {
      dy: tensor(dy, shape),
      x: tensor(x, shape),
      gamma: tensor(gamma, [g.c]),
      saved: forward.saved,
    },
    attrs,
  );

  it('∂l/∂x', () => {
    const numeric = new Float64Array(g.size);
    for (let c = 0; c < g.c; c++) {
      for (let n = 0; n < g.n; n++) {
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          numeric[i] = centralDifference(x, i, () => featureLoss(c, x, gamma, beta));
        }
      }
    }
    const error = maxRelativeError(values(analytic.dx), numeric);
    console.info(`gradcheck ${layout} [${shape.join(', ')}] dx: max relative error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
  });

  it('∂l/∂γ and ∂l/∂β', () => {
    const numericGamma = Float64Array.from({ length: g.c }, (_, c) =>
      centralDifference(gamma, c, () => featureLoss(c, x, gamma, beta)),
    );
    const numericBeta = Float64Array.from({ length: g.c }, (_, c) =>
      centralDifference(beta, c, () => featureLoss(c, x, gamma, beta)),
    );
    const errorGamma = maxRelativeError(values(analytic.dgamma), numericGamma);
    const errorBeta = maxRelativeError(values(analytic.dbeta), numericBeta);
    console.info(
      `gradcheck ${layout} [${shape.join(', ')}] dgamma: ${errorGamma.toExponential(2)}, dbeta: ${errorBeta.toExponential(2)}`,
    );
    expect(errorGamma).toBeLessThan(MAX_RELATIVE_ERROR);
    expect(errorBeta).toBeLessThan(MAX_RELATIVE_ERROR);
  });

  it('the check can fail: a wrong gradient (dx with the ∂l/∂σ² term dropped) is caught', () => {
    // dx without the variance path: γ·(dy − mean(dy))/std, a plausible bug
    const wrong = new Float64Array(g.size);
    const variance = values(forward.variance);
    for (let c = 0; c < g.c; c++) {
      let sum = 0;
      for (let n = 0; n < g.n; n++) for (let s = 0; s < g.spatial; s++) sum += dy[flatIndex(g, n, c, s)]!;
      const std = Math.sqrt(variance[c]! + epsilon);
      for (let n = 0; n < g.n; n++) {
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          wrong[i] = (gamma[c]! * (dy[i]! - sum / g.m)) / std;
        }
      }
    }
    expect(maxRelativeError(wrong, values(analytic.dx))).toBeGreaterThan(1e-2);
  });
});

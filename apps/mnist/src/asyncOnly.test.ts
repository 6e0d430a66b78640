import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '@batchnorm/backend-js';
import { asyncOnly, hasSyncReads, type Backend, type TensorHandle } from '@batchnorm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from './data.js';
import type { MlpSnapshot } from './model.js';
import { DEFAULTS } from './options.js';
import { Experiment, type ExperimentConfig, type Metrics } from './trainer.js';

let data: Dataset;
beforeAll(async () => {
  data = await loadDataset();
});

/**
 * The paper's network with the CLI's defaults (Gaussian init, BN lr 10, plain lr 5, seed 1) for
 * 1,000 steps of 60 (one epoch of the full MNIST training set), both variants, with BatchNorm's
 * finite check on; evaluated every 250 steps on 1,000 test images.
 */
const config: ExperimentConfig = {
  backend: 'js',
  variants: ['bn', 'plain'],
  steps: 1000,
  batchSize: DEFAULTS.batch,
  learningRates: { bn: DEFAULTS.lrBn, plain: DEFAULTS.lrPlain },
  seed: DEFAULTS.seed,
  init: { kind: 'gaussian', std: DEFAULTS.initStd },
  evalEvery: 250,
  population: 'exact',
  populationBatches: 20,
  momentum: DEFAULTS.momentum,
  dataDir: null,
  testLimit: 1000,
  probeUnit: DEFAULTS.probeUnit,
  checkFinite: true,
};

interface Outcome {
  readonly metrics: Metrics;
  readonly models: MlpSnapshot[];
  /** Every step's loss, in the order the steps ran. */
  readonly losses: number[];
}

async function train<T extends TensorHandle, S>(backend: Backend<T, S>): Promise<Outcome> {
  const outDir = mkdtempSync(join(tmpdir(), 'mnist-async-only-'));
  const experiment = await Experiment.create(config, { outDir, backend, dataset: data });
  const losses: number[] = [];
  try {
    const metrics = await experiment.run((event) => {
      if (event.kind === 'step') losses.push(event.loss);
    });
    const models = await Promise.all(experiment.models.map((m) => m.snapshot()));
    return { metrics, models, losses };
  } finally {
    experiment.dispose();
    backend.destroy();
  }
}

/** What must agree bit for bit: everything but wall times, timestamps and the backend's details. */
function results({ metrics, models, losses }: Outcome) {
  return {
    models,
    losses,
    runs: metrics.runs.map(({ msPerStep: _ms, backendDetails: _details, evals, ...run }) => ({
      ...run,
      evals: evals.map(({ trainSeconds: _seconds, ...record }) => record),
    })),
  };
}

describe('MNIST on an async-only backend-js', () => {
  it('trains 1,000 steps bit-identically to the plain backend-js, reading only through read', async () => {
    const plain = await train(createBackend());

    const wrapped = asyncOnly(createBackend());
    expect(hasSyncReads(wrapped)).toBe(false);
    expect(wrapped.readInto).toBeUndefined();
    let reads = 0;
    const async = await train({
      ...wrapped,
      read(t) {
        reads += 1;
        return wrapped.read(t);
      },
    });

    // Every step read its loss, and each BN step its three layers' mean and variance (the finite
    // check), through the asynchronous read.
    expect(reads).toBeGreaterThanOrEqual(1000 * (1 + 3 * 2) + 1000);
    expect(async.losses).toHaveLength(2000);
    expect(results(async)).toEqual(results(plain));

    // It trained (so agreeing is not agreeing on nothing), and nothing diverged.
    for (const run of plain.metrics.runs) {
      expect(run.diverged).toBeNull();
      expect(run.stepsDone).toBe(1000);
      expect(run.evals.map((e) => e.step)).toEqual([0, 250, 500, 750, 1000]);
    }
    const [bn, withoutBn] = plain.metrics.runs.map((run) => run.evals.at(-1)!.testAccuracy);
    expect(bn).toBeGreaterThan(0.9);
    expect(withoutBn).toBeGreaterThan(0.1);
  }, 300_000);
});

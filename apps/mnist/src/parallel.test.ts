// The variants of a js run train at once, each in a worker thread on a one-thread backend
// (issue 17 item 5): the same bits as one thread training both on js's default two threads.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '@batchnorm/backend-js';
import { describe, expect, it } from 'vitest';
import { CliProcess, outcomeOf, runCli, stepsDoneIn } from './__tests__/cliProcess.js';
import { temporaryDirectories } from './__tests__/temp.js';
import { variantWorkers } from './backends.js';
import { loadDataset } from './data.js';
import { CHECKPOINT_FILE, Experiment, METRICS_FILE, type Checkpoint, type Metrics, type RunRecord } from './trainer.js';

const temp = temporaryDirectories('mnist-parallel-');

/** A record without what depends on timing or on the backend's thread count. */
const results = ({ evals, stepsDone, diverged }: RunRecord) => ({
  stepsDone,
  diverged,
  evals: evals.map(({ trainSeconds: _, ...rest }) => rest),
});

describe('variants in worker threads', () => {
  it('are used for js with both variants when there is a core for each, with one thread each', () => {
    expect(variantWorkers('js', {}, 2, 2)).toEqual({ name: 'js', options: { threads: 1 } });
    expect(variantWorkers('js', { mode: 'x' }, 2, 4)).toEqual({ name: 'js', options: { mode: 'x', threads: 1 } });
    expect(variantWorkers('js', {}, 1, 2)).toBeUndefined();
    expect(variantWorkers('js', {}, 2, 1)).toBeUndefined();
    expect(variantWorkers('tfjs-node', {}, 2, 2)).toBeUndefined();
    expect(variantWorkers('reference', {}, 2, 2)).toBeUndefined();
  });

  it.runIf(availableParallelism() >= 2)('give the CLI’s run bit for bit what one thread on two-thread js gives', async () => {
    const dir = temp();
    const cli = runCli(['--backend', 'js', '--steps', '40', '--eval-every', '20', '--test-limit', '300', '--population-batches', '3', '--out', dir]);
    expect(cli.stderr).toContain('threads 1'); // the workers' backends: one thread each
    expect(cli.status).toBe(0);
    const metrics = JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8')) as Metrics;
    const checkpoint = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')) as Checkpoint;

    const backend = createBackend();
    expect(backend.details.threads).toBe(2);
    const here = await Experiment.create(metrics.config, { outDir: temp(), backend, dataset: await loadDataset() });
    try {
      const ran = await here.run();
      expect(ran.runs.map(results)).toEqual(metrics.runs.map(results));
      expect(ran.runs.map((run) => run.evals.length)).toEqual([3, 3]);
      const models = await Promise.all(here.models.map((model) => model.snapshot()));
      expect(models).toEqual(checkpoint.runs.map((run) => run.model));
    } finally {
      here.dispose();
      backend.destroy();
    }
  });

  it.runIf(availableParallelism() >= 2)('stop at the next step on SIGINT; --resume continues the same curves and parameters', async () => {
    const quick = ['--backend', 'js', '--batch', '10', '--eval-every', '10', '--test-limit', '100', '--population-batches', '2'];
    const dir = join(temp(), 'interrupted');
    const run = new CliProcess([...quick, '--steps', '100000', '--out', dir]);
    // The variants train at once: each is past step 10.
    await run.waitForStderr(/BN step 10\/100000/);
    await run.waitForStderr(/plain step 10\/100000/);
    run.child.kill('SIGINT');
    const signalled = performance.now();
    await run.waitForStderr(/Stopped by SIGINT/, 10_000);
    expect(performance.now() - signalled).toBeLessThan(2000);
    const finished = await run.exited;
    expect(finished.status).toBe(130);
    const done = stepsDoneIn(dir);
    expect(Math.min(...done)).toBeGreaterThanOrEqual(10);
    const steps = (Math.floor(Math.max(...done) / 10) + 2) * 10;
    expect(runCli(['--resume', dir, '--steps', String(steps)]).status).toBe(0);
    const whole = join(temp(), 'whole');
    expect(runCli([...quick, '--steps', String(steps), '--out', whole]).status).toBe(0);
    // BN's running averages too: the checkpoint holds js's float64 values (readFloat64).
    expect(outcomeOf(dir)).toEqual(outcomeOf(whole));
  }, 180_000);
});

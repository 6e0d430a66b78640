import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, TensorHandle } from '@batchnorm/core';
import { readCheckpoint, stepsDoneOf, validateConfig } from './checkpoint.js';
import { datasetName, loadDataset, type Dataset } from './data.js';
import type { TrainedModel } from './export.js';
import { writeFileAtomic } from './files.js';
import type { Mlp, Variant } from './model.js';
import type { Session } from './provenance.js';
import { CHECKPOINT_FILE, METRICS_FILE, type Checkpoint, type EvalRecord, type ExperimentConfig, type Metrics, type ProgressEvent } from './records.js';
import { VariantRun, type VariantDriver } from './variantRun.js';
import { sharedDataset, VariantWorker, type WorkerBackend } from './variantWorker.js';

export * from './records.js';
export { percentile } from './evaluation.js';
export { stepsDoneOf } from './checkpoint.js';

export interface RunOptions {
  readonly outDir: string;
  readonly backend: Backend;
  /** Already loaded data (tests, sweeps); otherwise read from `config.dataDir`. */
  readonly dataset?: Dataset;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Stop after this many steps per variant in this call (tests of resume); default: to the end. */
  readonly stopAfterStep?: number;
  /** This invocation's provenance; its wall time is brought up to date at every save. */
  readonly session?: Session;
  /**
   * Train each variant in a worker thread of its own, all at once, each on a backend the worker
   * creates from these options (for a backend whose results do not depend on its thread count).
   * Default: every variant in this thread on `backend`, one evaluation interval at a time.
   */
  readonly workers?: WorkerBackend;
}

/** Runs (or continues) an experiment, writing metrics and a checkpoint at every evaluation. */
export class Experiment {
  readonly config: ExperimentConfig;
  readonly backend: Backend;
  readonly dataset: Dataset;
  readonly metrics: Metrics;
  readonly outDir: string;
  readonly #runs: VariantDriver[];
  readonly #startedAt: string;
  readonly #session: Session | undefined;

  private constructor(
    config: ExperimentConfig,
    options: RunOptions,
    dataset: Dataset,
    startedAt: string,
    checkpoint?: Checkpoint,
  ) {
    this.config = config;
    this.#session = options.session;
    this.backend = options.backend;
    // Workers read the data from shared memory: this thread keeps that one copy only.
    this.dataset = options.workers === undefined ? dataset : sharedDataset(dataset);
    this.outDir = options.outDir;
    this.#startedAt = startedAt;
    const testImages = Math.min(config.testLimit ?? dataset.test.count, dataset.test.count);
    // A resumed record takes this invocation's steps and backend.
    const overrides = { steps: config.steps, backend: this.backend.name, backendDetails: this.backend.details, dtype: this.backend.dtype };
    this.#runs = config.variants.map((variant, i) => {
      const saved = checkpoint?.runs[i];
      if (saved !== undefined && saved.record.variant !== variant) throw new Error('checkpoint variants do not match');
      if (options.workers !== undefined) {
        return new VariantWorker(options.workers, { config, variant, dataset: this.dataset, testImages, backend: this.backend, saved, overrides });
      }
      const run = new VariantRun(config, variant, this.backend, dataset, testImages);
      if (saved !== undefined) run.restore(saved, overrides);
      return run;
    });
    const previousSessions = checkpoint?.sessions ?? [];
    this.metrics = {
      schema: 'batchnorm-mnist-metrics/1',
      config,
      dataset: { name: datasetName(config.dataDir), directory: dataset.directory, trainImages: dataset.train.count, testImages },
      runs: this.#runs.map((run) => run.record),
      startedAt,
      updatedAt: startedAt,
      finished: false,
      sessions: [...previousSessions, ...(options.session === undefined ? [] : [options.session])],
    };
  }

  static async create(config: ExperimentConfig, options: RunOptions): Promise<Experiment> {
    validateConfig(config);
    const dataset = options.dataset ?? (await loadDataset(config.dataDir ?? undefined));
    mkdirSync(options.outDir, { recursive: true });
    return new Experiment(config, options, dataset, new Date().toISOString());
  }

  /** Reads `dir/checkpoint.json`; an error names a file that is not a checkpoint. */
  static readCheckpoint(dir: string): Checkpoint {
    return readCheckpoint(dir);
  }

  /** Continues from a checkpoint: same weights, BN state, step and data order; `steps` may raise the total. */
  static async resume(checkpoint: Checkpoint, options: RunOptions & { steps?: number }): Promise<Experiment> {
    const config = { ...checkpoint.config, ...(options.steps === undefined ? {} : { steps: options.steps }) };
    validateConfig(config);
    const done = stepsDoneOf(checkpoint);
    if (config.steps < done) {
      throw new Error(`steps ${config.steps} is below the ${done} steps already done in this run`);
    }
    const dataset = options.dataset ?? (await loadDataset(config.dataDir ?? undefined));
    return new Experiment(config, options, dataset, checkpoint.startedAt, checkpoint);
  }

  /** The live models, for tests (of variants trained in this thread). */
  get models(): readonly Mlp<TensorHandle>[] {
    return this.#runs.flatMap((run) => (run instanceof VariantRun ? [run.model] : []));
  }

  /**
   * Trains every variant to `config.steps`, one evaluation interval at a time (the variants in
   * turn, or at once in workers). When `signal` is aborted (Ctrl-C) it stops at the next step
   * boundary, evaluates only if that boundary is an evaluation's, and writes the checkpoint, from
   * which `resume` continues exactly as if nothing had happened.
   */
  async run(onProgress?: (event: ProgressEvent) => void, stopAfterStep?: number, signal?: AbortSignal): Promise<Metrics> {
    const { steps, evalEvery } = this.config;
    const limit = Math.min(steps, stopAfterStep ?? steps);
    const total = steps * this.#runs.length;
    const latest = new Map<Variant, EvalRecord>();
    const progress = (run: VariantDriver, loss: number, kind: ProgressEvent['kind']) => {
      const done = this.#runs.reduce((sum, r) => sum + (r.record.diverged ? steps : r.record.stepsDone), 0);
      onProgress?.({ variant: run.record.variant, step: run.record.stepsDone, steps, done, total, loss, latest, kind });
    };
    const evaluate = async (run: VariantDriver) => {
      const record = await run.evaluate();
      latest.set(run.record.variant, record);
      return record;
    };
    for (const run of this.#runs) {
      const last = run.record.evals.at(-1);
      if (last !== undefined) latest.set(run.record.variant, last);
    }
    await this.#each(this.#runs, async (run) => {
      if (run.record.evals.length === 0) await evaluate(run);
    });
    await this.#save();
    // A run stopped at step k between two evaluations and resumed with `steps` = k still owes
    // the evaluation at its last step.
    const owesEvaluation = (run: VariantDriver) => (run.record.evals.at(-1)?.step ?? -1) < run.record.stepsDone;
    const active = () =>
      this.#runs.filter((run) => run.record.diverged === null && (run.record.stepsDone < limit || owesEvaluation(run)));
    while (signal?.aborted !== true && active().length > 0) {
      await this.#each(active(), async (run) => {
        const target = Math.min(limit, (Math.floor(run.record.stepsDone / evalEvery) + 1) * evalEvery);
        await run.trainTo(target, signal, (loss) => progress(run, loss, 'step'));
        // A boundary reached is evaluated even after a stop request: a resume would start past it.
        if (run.record.diverged === null && run.record.stepsDone === target) {
          const record = await evaluate(run);
          progress(run, record.loss ?? Number.NaN, 'eval');
        }
      });
      await this.#save();
    }
    this.metrics.finished = this.#runs.every((run) => run.record.diverged !== null || run.record.stepsDone >= steps);
    await this.#save();
    return this.metrics;
  }

  /** `task` for each run: at once when they run in workers, else in turn. */
  async #each(runs: readonly VariantDriver[], task: (run: VariantDriver) => Promise<void>): Promise<void> {
    if (runs.every((run) => run instanceof VariantWorker)) {
      const outcomes = await Promise.allSettled(runs.map(task));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } else {
      for (const run of runs) await task(run);
    }
  }

  /**
   * Each trained variant as it was last evaluated, for export: its parameters and the BN states
   * its inference used (`exact`: recomputed from the same weights and the same training batches,
   * bit for bit what the evaluation used; `moving`: the running averages). A variant whose
   * weights moved since its last evaluation (stopped between two), that diverged or that has not
   * trained is left out.
   */
  async trainedModels(): Promise<TrainedModel[]> {
    const models = await Promise.all(this.#runs.map((run) => run.trainedModel()));
    return models.filter((model) => model !== undefined);
  }

  /** Writes metrics and checkpoint now (the session's wall time brought up to date). */
  async save(): Promise<void> {
    await this.#save();
  }

  async #save(): Promise<void> {
    this.metrics.updatedAt = new Date().toISOString();
    if (this.#session !== undefined) this.#session.wallSeconds = (Date.now() - Date.parse(this.#session.startedAt)) / 1000;
    const runs = await Promise.all(this.#runs.map((run) => run.checkpoint()));
    const checkpoint: Checkpoint = {
      schema: 'batchnorm-mnist-checkpoint/1',
      config: this.config,
      rng: { scheme: 'mulberry32, Fisher–Yates per epoch from (seed, epoch)', seed: this.config.seed },
      startedAt: this.#startedAt,
      ...(this.metrics.sessions === undefined ? {} : { sessions: this.metrics.sessions }),
      runs,
    };
    writeFileAtomic(join(this.outDir, CHECKPOINT_FILE), JSON.stringify(checkpoint));
    writeFileAtomic(join(this.outDir, METRICS_FILE), `${JSON.stringify(this.metrics, null, 2)}\n`);
  }

  dispose(): void {
    for (const run of this.#runs) run.dispose();
  }
}

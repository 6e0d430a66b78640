import { BatchNormError, hasSyncReads, type Backend, type BatchNorm, type BatchNormState, type TensorHandle } from '@batchnorm/core';
import { BatchSource } from './batches.js';
import type { Dataset } from './data.js';
import { evaluate, populationBatches } from './evaluation.js';
import type { TrainedModel } from './export.js';
import { forBackend, Mlp, PAPER_LAYER_SIZES, readValues, type Variant } from './model.js';
import type { EvalRecord, ExperimentConfig, RunRecord, VariantCheckpoint } from './records.js';

/**
 * One variant of an experiment as the experiment drives it: in this thread ({@link VariantRun})
 * or in a worker thread of its own (`VariantWorker`). `record` is kept up to date in this thread.
 */
export interface VariantDriver {
  readonly record: RunRecord;
  /**
   * Trains until `stepsDone` reaches `target`, the variant diverges, or `signal` is aborted (it
   * stops at the next step boundary); `onStep` gets each step's loss.
   */
  trainTo(target: number, signal: AbortSignal | undefined, onStep: (loss: number) => void): Promise<void>;
  /** Evaluates the network as it is now and appends the result to `record.evals`. */
  evaluate(): Promise<EvalRecord>;
  checkpoint(): Promise<VariantCheckpoint>;
  /** The network as last evaluated, for export, or undefined (see `Experiment.trainedModels`). */
  trainedModel(): Promise<TrainedModel | undefined>;
  dispose(): void;
}

/** The record of a variant not trained yet. */
export function newRecord(config: ExperimentConfig, variant: Variant, backend: Backend, testImages: number): RunRecord {
  return {
    variant,
    backend: backend.name,
    backendDetails: backend.details,
    dtype: backend.dtype,
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
  };
}

/**
 * Lets timers, I/O and signal handlers (Ctrl-C) run between training steps: a loop of synchronous
 * steps would otherwise hold the event loop for the whole run.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A variant trained on `backend` in this thread. */
export class VariantRun implements VariantDriver {
  readonly model: Mlp<TensorHandle>;
  readonly record: RunRecord;
  readonly #config: ExperimentConfig;
  readonly #dataset: Dataset;
  readonly #train: BatchSource;
  lossSum = 0;
  lossCount = 0;
  trainSeconds = 0;

  constructor(config: ExperimentConfig, variant: Variant, backend: Backend, dataset: Dataset, testImages: number) {
    this.#config = config;
    this.#dataset = dataset;
    const classes = PAPER_LAYER_SIZES[PAPER_LAYER_SIZES.length - 1]!;
    this.#train = new BatchSource(dataset.train, config.batchSize, config.seed, classes);
    this.model = new Mlp(backend, {
      variant,
      layerSizes: [dataset.train.features, ...PAPER_LAYER_SIZES.slice(1)],
      seed: config.seed,
      ...(config.init === undefined ? {} : { init: config.init }),
      momentum: config.momentum,
      checkFinite: config.checkFinite,
    });
    this.record = newRecord(config, variant, backend, testImages);
  }

  /** Continues from `saved`: same weights, BN state, step and loss sums; `record` takes `overrides`. */
  restore(saved: VariantCheckpoint, overrides: Partial<RunRecord>): void {
    if (this.record.variant !== saved.record.variant) throw new Error('checkpoint variants do not match');
    this.model.load(saved.model);
    // A copy of the evaluations: training appends to them, and the checkpoint is the caller's.
    Object.assign(this.record, { ...saved.record, evals: [...saved.record.evals], ...overrides });
    this.lossSum = saved.lossSum;
    this.lossCount = saved.lossCount;
    this.trainSeconds = saved.trainSeconds;
  }

  async trainTo(target: number, signal: AbortSignal | undefined, onStep: (loss: number) => void): Promise<void> {
    while (this.record.stepsDone < target && this.record.diverged === null && signal?.aborted !== true) {
      onStep(await this.step());
      await yieldToEventLoop();
    }
  }

  /**
   * One training step; returns its loss. The kernels run synchronously; the loss is read back
   * through `read` (or `readSync` where declared: the same values). On a backend that reads
   * asynchronously BatchNorm's finite checks settle after the step, before the next one: a
   * non-finite batch statistic stops the variant at the same step as on a synchronous backend.
   */
  async step(): Promise<number> {
    const b = this.model.backend;
    const source = this.#train;
    const record = this.record;
    const started = performance.now();
    source.fill(record.stepsDone);
    const x = b.upload(forBackend(b, source.images), [source.batchSize, source.split.features]);
    const labels = b.upload(forBackend(b, source.oneHot), [source.batchSize, source.classes]);
    let loss = Number.NaN;
    try {
      const lossHandle = this.model.trainStep(x, labels, record.learningRate);
      const values = readValues(b, lossHandle);
      b.dispose(lossHandle);
      loss = (await values)[0]!;
      if (!hasSyncReads(b)) await settleAll(this.model.batchNorm);
    } catch (error) {
      if (!(error instanceof BatchNormError && error.code === 'NON_FINITE_INPUT')) throw error;
      record.diverged = { step: record.stepsDone + 1, reason: `BatchNorm: ${error.message}` };
    } finally {
      b.dispose(x);
      b.dispose(labels);
    }
    this.trainSeconds += (performance.now() - started) / 1000;
    if (record.diverged === null && !Number.isFinite(loss)) {
      record.diverged = { step: record.stepsDone + 1, reason: `training loss ${loss}` };
    }
    if (record.diverged !== null) return loss;
    record.stepsDone += 1;
    this.lossSum += loss;
    this.lossCount += 1;
    record.msPerStep = (this.trainSeconds * 1000) / record.stepsDone;
    return loss;
  }

  #populationBatches(): Iterable<TensorHandle> {
    return populationBatches(this.model.backend, this.#train, this.#config.populationBatches);
  }

  async evaluate(): Promise<EvalRecord> {
    const { testAccuracy, percentiles, testAccuracyByPopulation } = await evaluate(this.model, {
      test: this.#dataset.test,
      testImages: this.record.testImages,
      probeUnit: this.#config.probeUnit,
      population: this.#config.population,
      populationBatches: () => this.#populationBatches(),
    });
    const record: EvalRecord = {
      step: this.record.stepsDone,
      testAccuracy,
      percentiles,
      loss: this.lossCount === 0 ? null : this.lossSum / this.lossCount,
      trainSeconds: this.trainSeconds,
      ...(testAccuracyByPopulation === undefined ? {} : { testAccuracyByPopulation }),
    };
    this.lossSum = 0;
    this.lossCount = 0;
    this.record.evals.push(record);
    return record;
  }

  async checkpoint(): Promise<VariantCheckpoint> {
    const { record, lossSum, lossCount, trainSeconds } = this;
    return { record, model: await this.model.snapshot(), lossSum, lossCount, trainSeconds };
  }

  async trainedModel(): Promise<TrainedModel | undefined> {
    const last = this.record.evals.at(-1);
    const run = this.record;
    if (run.diverged !== null || last === undefined || last.step === 0 || last.step !== run.stepsDone) return undefined;
    const snapshot = await this.model.snapshot();
    let inference: BatchNormState[] = [];
    if (run.variant === 'bn') {
      if (this.#config.population === 'exact') {
        const layers = await this.model.exactPopulationLayers(this.#populationBatches());
        try {
          inference = await Promise.all(layers.map((layer) => layer.state()));
        } finally {
          for (const layer of layers) layer.dispose();
        }
      } else {
        inference = snapshot.batchNorm;
      }
    }
    return { variant: run.variant, step: last.step, testAccuracy: last.testAccuracy, population: run.population, snapshot, inference };
  }

  dispose(): void {
    this.model.dispose();
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

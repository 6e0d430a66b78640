import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchNormError, type Backend } from '@batchnorm/core';
import { cheapFiniteCheck, openBackend, type OpenedBackend } from './backends.js';
import { HELP, parseCommand, UsageError, type Command } from './options.js';
import { Progress } from './progress.js';
import { Experiment, type ExperimentConfig, type Metrics } from './trainer.js';

/** `runs/` at the repository root (apps/mnist/dist/ → ../../..), git-ignored. */
export function defaultRunsDirectory(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'runs');
}

function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function uniqueRunDirectory(): string {
  const base = join(defaultRunsDirectory(), timestamp());
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

function summary(metrics: Metrics, outDir: string): string {
  const lines = metrics.runs.map((run) => {
    const last = run.evals.at(-1);
    const accuracy = last === undefined ? '–' : `${(last.testAccuracy * 100).toFixed(2)}%`;
    const time = run.msPerStep === null ? '' : `, ${run.msPerStep.toFixed(2)} ms/step`;
    const diverged = run.diverged === null ? '' : ` (diverged at step ${run.diverged.step})`;
    return `  ${run.variant === 'bn' ? 'with BN   ' : 'without BN'}  lr ${run.learningRate}  step ${run.stepsDone}  test accuracy ${accuracy}${time}${diverged}`;
  });
  return [
    `Backend ${metrics.config.backend}; ${metrics.dataset.testImages} test images.`,
    ...lines,
    `Outputs in ${outDir}: report.html, figure1.svg, figure1.png, metrics.json, checkpoint.json`,
    '',
  ].join('\n');
}

async function backendFor(name: string, mode: string | undefined): Promise<OpenedBackend> {
  return openBackend(name, mode === undefined ? {} : { mode });
}

async function execute(command: Exclude<Command, { kind: 'help' }>, io: Io): Promise<number> {
  let experiment: Experiment;
  let backend: Backend;
  if (command.kind === 'resume') {
    const checkpoint = Experiment.readCheckpoint(command.dir);
    ({ backend } = await backendFor(checkpoint.config.backend, command.backendMode));
    experiment = await Experiment.resume(checkpoint, {
      outDir: command.dir,
      backend,
      ...(command.steps === undefined ? {} : { steps: command.steps }),
    });
    io.stderr.write(`Resuming ${command.dir} at step ${Math.min(...experiment.metrics.runs.map((r) => r.stepsDone))}\n`);
  } else {
    const opened = await backendFor(command.backend, command.backendMode);
    backend = opened.backend;
    const config: ExperimentConfig = {
      backend: command.backend,
      variants: command.variants,
      steps: command.steps,
      batchSize: command.batchSize,
      learningRates: command.learningRates,
      seed: command.seed,
      init: command.init,
      evalEvery: command.evalEvery,
      population: command.population,
      populationBatches: command.populationBatches,
      momentum: command.momentum,
      dataDir: command.dataDir === null ? null : resolve(command.dataDir),
      testLimit: command.testLimit,
      probeUnit: command.probeUnit,
      checkFinite: cheapFiniteCheck(opened.module),
    };
    const outDir = command.outDir === undefined ? uniqueRunDirectory() : resolve(command.outDir);
    experiment = await Experiment.create(config, { outDir, backend });
  }
  const outDir = experiment.outDir;
  const details = Object.entries(backend.details).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  io.stderr.write(
    `Training ${experiment.config.variants.join(' + ')} on backend ${backend.name}` +
      `${details === '' ? '' : ` (${details})`}, ${experiment.config.steps} steps each; output in ${outDir}\n`,
  );
  const progress = new Progress(io.stderr);
  const onSignal = () => {
    progress.finish();
    io.stderr.write(`\nInterrupted. Continue with: pnpm mnist --resume ${outDir}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const metrics = await experiment.run((event) => progress.update(event));
    progress.finish();
    // Loaded only now: the plotting stack takes a while to import, --help and bad flags need not wait.
    const { writeReport } = await import('./report.js');
    await writeReport(metrics, outDir);
    io.stdout.write(summary(metrics, outDir));
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    experiment.dispose();
    backend.destroy();
  }
}

/** In this workspace a backend package is missing when it is not built or not linked at the root. */
const NOT_INSTALLED_HINT =
  ' (in this repository: is it built (pnpm build), and a dependency of the root package.json ' +
  '(node scripts/sync-backends.mjs --write, then pnpm install)?)';

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: Io = process): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\nRun with --help for the options.\n`);
      return 2;
    }
    throw error;
  }
  if (command.kind === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  try {
    return await execute(command, io);
  } catch (error) {
    const message =
      error instanceof BatchNormError
        ? `${error.message}${error.code === 'BACKEND_NOT_INSTALLED' ? NOT_INSTALLED_HINT : ''}`
        : error instanceof Error
          ? error.message
          : String(error);
    io.stderr.write(`error: ${message}\n`);
    if (!(error instanceof BatchNormError) && error instanceof Error && process.env.BATCHNORM_DEBUG) {
      io.stderr.write(`${error.stack}\n`);
    }
    return 1;
  }
}

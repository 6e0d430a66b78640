import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatchNormError, type Backend } from '@batchnorm/core';
import { errorLine, EXIT_CODES, exitOnSignals, usageErrorText } from '@batchnorm/core/node';
import { cheapFiniteCheck, openBackend, variantWorkers, type OpenedBackend } from './backends.js';
import { exportModel, modelFileNames } from './export.js';
import { RunLock } from './lock.js';
import type { Variant } from './model.js';
import { HELP, parseCommand, TOOL, UsageError, type NewRun, type ResumeRun } from './options.js';
import { Progress } from './progress.js';
import { startSession } from './provenance.js';
import { outDirectoryOf, removeIfEmpty, requireDirectory, RUN_FILES, shellWord } from './runDirectory.js';
import { CHECKPOINT_FILE, Experiment, stepsDoneOf, type ExperimentConfig, type Metrics, type RunOptions } from './trainer.js';

export { defaultRunsDirectory } from './runDirectory.js';

type StopSignal = 'SIGINT' | 'SIGTERM';

interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/**
 * The backend `name` (with `--backend-mode`), opened with one core when the variants can train
 * at once in worker threads (`workers`: the backend each worker creates), else as asked.
 */
async function backendFor(
  name: string,
  mode: string | undefined,
  variants: readonly Variant[],
): Promise<OpenedBackend & Pick<RunOptions, 'workers'>> {
  const options = mode === undefined ? {} : { mode };
  const workers = variantWorkers(name, options, variants.length);
  const opened = await openBackend(name, workers?.options ?? options);
  return workers === undefined ? opened : { ...opened, workers };
}

const VARIANT_NAMES = { bn: 'with BN', plain: 'without BN' } as const;

function summary(metrics: Metrics, outDir: string, models: readonly string[]): string {
  const lines = metrics.runs.map((run) => {
    const last = run.evals.at(-1);
    const accuracy = last === undefined ? '–' : `${(last.testAccuracy * 100).toFixed(2)}%`;
    // After an interrupt between two evaluations, the accuracy is the last evaluation's.
    const at = last !== undefined && last.step !== run.stepsDone ? ` (at step ${last.step})` : '';
    const time = run.msPerStep === null ? '' : `, ${run.msPerStep.toFixed(2)} ms/step`;
    const diverged = run.diverged === null ? '' : ` (diverged at step ${run.diverged.step})`;
    return `  ${run.variant === 'bn' ? 'with BN   ' : 'without BN'}  lr ${run.learningRate}  step ${run.stepsDone}  test accuracy ${accuracy}${at}${time}${diverged}`;
  });
  return [
    `Backend ${metrics.config.backend}; ${metrics.dataset.testImages} test images.`,
    ...lines,
    `Outputs in ${outDir}: report.html, figure1.svg, figure1.png, metrics.json, checkpoint.json` +
      `${models.map((name) => `, ${name}`).join('')}`,
    '',
  ].join('\n');
}

/**
 * Checks the command's paths (a bad one is a usage error), takes the run directory's lock, and
 * runs. The lock is released on every way out; a directory this call created and left empty
 * (the run failed before writing anything) is removed.
 */
async function execute(command: NewRun | ResumeRun, io: Io, argv: readonly string[]): Promise<number> {
  const started = new Date();
  let outDir: string;
  let created = false;
  if (command.kind === 'resume') {
    requireDirectory('--resume', command.dir);
    outDir = resolve(command.dir);
    if (!existsSync(join(outDir, CHECKPOINT_FILE))) {
      throw new UsageError(`--resume ${command.dir}: it holds no run to continue (no ${CHECKPOINT_FILE})`);
    }
  } else {
    if (command.dataDir !== null) requireDirectory('--data', command.dataDir);
    ({ dir: outDir, created } = outDirectoryOf(command));
  }
  try {
    const lock = RunLock.acquire(outDir);
    try {
      if (lock.tookOver !== undefined) {
        const { pid, startedAt } = lock.tookOver;
        io.stderr.write(`Took over the stale lock of pid ${pid} (started ${startedAt}), which is no longer running.\n`);
      }
      if (command.kind === 'new') {
        const held = RUN_FILES.slice(0, 2).filter((name) => existsSync(join(outDir, name)));
        if (held.length > 0 && !command.overwrite) {
          throw new UsageError(
            `--out ${command.outDir}: ${outDir} already holds a run (${held.join(', ')}). Continue it with ` +
              `--resume ${shellWord(outDir)}, replace it with --overwrite, or choose another directory.`,
          );
        }
        // Nothing of the old run may be mistaken for the new one's (an old report after a crash).
        for (const name of RUN_FILES) rmSync(join(outDir, name), { force: true });
      }
      return await train(command, outDir, io, { argv, started });
    } finally {
      lock.release();
    }
  } finally {
    if (created) removeIfEmpty(outDir);
  }
}

/** Trains in the locked `outDir`; SIGINT and SIGTERM stop it at the next step, cleanly. */
async function train(
  command: NewRun | ResumeRun,
  outDir: string,
  io: Io,
  invocation: { readonly argv: readonly string[]; readonly started: Date },
): Promise<number> {
  const stop = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const removeHandlers = () => {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  };
  // The first signal stops at the next step; from then on the kit's handler ends the process at
  // the next one. The last checkpoint stays (writes are atomic); the lock goes with the process.
  const onSignal = (signal: StopSignal) => {
    removeHandlers();
    stoppedBy = signal;
    stop.abort();
    io.stderr.write(`\n${signal}: stopping at the next step (press Ctrl-C again to stop at once)…\n`);
    exitOnSignals((next) => {
      const again = next === signal ? `${next} again` : `${next} after ${signal}`;
      io.stderr.write(`\n${again}: stopping at once; the last checkpoint in ${outDir} is intact.\n`);
    });
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let experiment: Experiment | undefined;
  let backend: Backend | undefined;
  try {
    if (command.kind === 'resume') {
      const checkpoint = Experiment.readCheckpoint(outDir);
      const done = stepsDoneOf(checkpoint);
      if (command.steps !== undefined && command.steps < done) {
        throw new UsageError(
          `--steps ${command.steps}: the run in ${command.dir} has already done ${done} steps; ` +
            `give --steps ${done} or more, or leave --steps out to train to its ${checkpoint.config.steps}`,
        );
      }
      const opened = await backendFor(checkpoint.config.backend, command.backendMode, checkpoint.config.variants);
      backend = opened.backend;
      experiment = await Experiment.resume(checkpoint, {
        outDir,
        backend,
        session: startSession(invocation.argv, opened.module.packageName, invocation.started),
        ...(opened.workers === undefined ? {} : { workers: opened.workers }),
        ...(command.steps === undefined ? {} : { steps: command.steps }),
      });
      io.stderr.write(`Resuming ${outDir} at step ${Math.min(...experiment.metrics.runs.map((r) => r.stepsDone))}\n`);
    } else {
      const opened = await backendFor(command.backend, command.backendMode, command.variants);
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
      experiment = await Experiment.create(config, {
        outDir,
        backend,
        session: startSession(invocation.argv, opened.module.packageName, invocation.started),
        ...(opened.workers === undefined ? {} : { workers: opened.workers }),
      });
    }
    const details = Object.entries(backend.details).map(([k, v]) => `${k} ${String(v)}`).join(', ');
    io.stderr.write(
      `Training ${experiment.config.variants.join(' + ')} on backend ${backend.name}` +
        `${details === '' ? '' : ` (${details})`}, ${experiment.config.steps} steps each; output in ${outDir}\n`,
    );
    const progress = new Progress(io.stderr);
    const metrics = await experiment.run((event) => progress.update(event), undefined, stop.signal);
    progress.finish();
    if (stoppedBy !== undefined) {
      const where = metrics.runs.map((run) => `${VARIANT_NAMES[run.variant]} at step ${run.stepsDone}`).join(', ');
      io.stderr.write(`Stopped by ${stoppedBy}: ${where} of ${metrics.config.steps}; checkpoint saved. Writing the report…\n`);
    }
    // Each variant as evaluated, for PyTorch and ONNX Runtime (a variant stopped between two
    // evaluations has weights no evaluation measured: it is written when the run goes on).
    const models: string[] = [];
    for (const trained of await experiment.trainedModels()) {
      exportModel(trained, outDir);
      models.push(...Object.values(modelFileNames(trained.variant)));
    }
    const unexported = metrics.runs.filter((run) => !models.includes(modelFileNames(run.variant).onnx));
    if (unexported.length > 0) {
      io.stderr.write(
        `No new model files for ${unexported.map((run) => VARIANT_NAMES[run.variant]).join(', ')}: only a network ` +
          'measured by an evaluation (not stopped between two, not diverged) is exported; files of an earlier ' +
          'evaluation, if any, are left as they were (their metadata names the step).\n',
      );
    }
    await experiment.save(); // the wall time up to here, in metrics.json
    // Loaded only now: the plotting stack takes a while to import, --help and bad flags need not wait.
    const { writeReport } = await import('./report.js');
    await writeReport(metrics, outDir);
    io.stdout.write(summary(metrics, outDir, models));
    if (stoppedBy === undefined) return EXIT_CODES.ok;
    io.stderr.write(
      metrics.finished
        ? `Interrupted by ${stoppedBy} after all ${metrics.config.steps} steps were done: the run is complete.\n`
        : `Interrupted by ${stoppedBy}. Continue with: pnpm mnist --resume ${shellWord(outDir)}\n`,
    );
    return EXIT_CODES[stoppedBy];
  } finally {
    removeHandlers();
    experiment?.dispose();
    backend?.destroy();
  }
}

/** In this workspace a backend package is missing when it is not built or not linked at the root. */
const NOT_INSTALLED_HINT =
  ' (in this repository: is it built (pnpm build), and a dependency of the root package.json ' +
  '(node scripts/sync-backends.mjs --write, then pnpm install)?)';

/**
 * Runs the CLI; returns the exit code. Errors are printed in the form all batchnorm CLIs share
 * (docs/cli.md); a run-time error's stack only with BATCHNORM_DEBUG set.
 */
export async function main(argv: readonly string[], io: Io = process): Promise<number> {
  try {
    // parseCommand throws UsageError only; execute also refuses bad paths with it
    const command = parseCommand(argv);
    if (command.kind === 'help') {
      io.stdout.write(HELP);
      return EXIT_CODES.ok;
    }
    return await execute(command, io, argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${usageErrorText(TOOL, error.message)}\n`);
      return EXIT_CODES.usage;
    }
    const message =
      error instanceof BatchNormError
        ? `${error.message}${error.code === 'BACKEND_NOT_INSTALLED' ? NOT_INSTALLED_HINT : ''}`
        : error instanceof Error
          ? error.message
          : String(error);
    io.stderr.write(`${errorLine(TOOL, message)}\n`);
    if (!(error instanceof BatchNormError) && error instanceof Error && process.env.BATCHNORM_DEBUG) {
      io.stderr.write(`${error.stack}\n`);
    }
    return EXIT_CODES.failed;
  }
}

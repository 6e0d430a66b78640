import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI (tests run it as a user would: a separate Node process). */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');

/**
 * A short, cheap run: core's reference backend (no other package involved), mini-batches of 10,
 * evaluations every 10 steps on 100 test images.
 */
export const QUICK = [
  '--backend', 'reference', '--batch', '10', '--eval-every', '10', '--test-limit', '100', '--population-batches', '2',
];

export interface Finished {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** `performance.now()` when the process exited. */
  readonly exitedAt: number;
}

function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the app first (pnpm build)`);
}

/** Runs the CLI to its end. */
export function runCli(args: readonly string[], timeout = 120_000): Finished {
  requireBuilt();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, exitedAt: performance.now() };
}

/** The CLI as a running child process, to signal it or race it against another. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Finished>;
  #waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];

  constructor(args: readonly string[]) {
    requireBuilt();
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      this.#waiters = this.#waiters.filter(({ pattern, resolve }) => {
        const match = this.stderr.match(pattern);
        if (match !== null) resolve(match);
        return match === null;
      });
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (status, signal) =>
        resolve({ status, signal, stdout: this.stdout, stderr: this.stderr, exitedAt: performance.now() }),
      );
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves when stderr matches `pattern`; rejects if the process ends first or after `timeout` ms. */
  waitForStderr(pattern: RegExp, timeout = 60_000): Promise<RegExpMatchArray> {
    const match = this.stderr.match(pattern);
    if (match !== null) return Promise.resolve(match);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} on stderr after ${timeout} ms:\n${this.stderr}`)), timeout);
      void this.exited.then((f) => {
        clearTimeout(timer);
        reject(new Error(`exited (${f.status ?? f.signal}) before ${pattern} appeared on stderr:\n${f.stderr}`));
      });
      this.#waiters.push({
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

/** What a resumed run must reproduce bit for bit: the curves, the steps and the final parameters. */
export function outcomeOf(dir: string): unknown {
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as {
    finished: boolean;
    config: unknown;
    runs: { variant: string; stepsDone: number; diverged: unknown; evals: { trainSeconds?: number }[] }[];
  };
  const checkpoint = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as {
    runs: { model: unknown; lossSum: number; lossCount: number }[];
  };
  return {
    finished: metrics.finished,
    config: metrics.config,
    runs: metrics.runs.map((run, i) => ({
      variant: run.variant,
      stepsDone: run.stepsDone,
      diverged: run.diverged,
      evals: run.evals.map(({ trainSeconds: _seconds, ...record }) => record),
      model: checkpoint.runs[i]!.model,
      lossSum: checkpoint.runs[i]!.lossSum,
      lossCount: checkpoint.runs[i]!.lossCount,
    })),
  };
}

/** The step counts of each variant in `dir`'s checkpoint. */
export function stepsDoneIn(dir: string): number[] {
  const checkpoint = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { runs: { record: { stepsDone: number } }[] };
  return checkpoint.runs.map((run) => run.record.stepsDone);
}

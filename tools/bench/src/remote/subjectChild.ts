import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KernelOp } from '../byteModel.js';
import { MNIST_VARIANTS } from '../mnist/problem.js';
import { TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from '../names.js';
import type { BenchResult } from '../results.js';
import type { ShapeRunner } from '../runKernels.js';
import type { CaseOutcome, ChildMessage, ChildSettings, LoadedGroup, ParentMessage, SubjectGroup } from './protocol.js';

/** The built entry each child runs. */
export const CHILD_ENTRY = fileURLToPath(new URL('./childMain.js', import.meta.url));
/** How long one request (loading, or every case of one shape) may take before the child is stopped. */
export const CHILD_TIMEOUT_MS = 30 * 60_000;
/** Lines of a dead child's stderr its reason quotes. */
const TAIL_LINES = 3;

/** Children still running, for `stopSubjectChildren`. */
const live = new Set<ChildProcess>();

/** Stops every child still running: a SIGTERM sent to the bench alone would leave them running. */
export function stopSubjectChildren(): void {
  for (const child of live) child.kill('SIGTERM');
}

/** The report names a group stands for. */
export function groupNames(group: SubjectGroup): string[] {
  if (group.kind === 'backend') return [group.name];
  return [...(group.kernels ? [TFJS_ANCHOR_NAMES[group.engine]] : []), ...(group.layers ? [TFJS_LAYERS_NAMES[group.engine]] : [])];
}

export interface ChildOptions {
  readonly log: (line: string) => void;
  /** The script to fork (tests give fakes). */
  readonly entry?: string;
  readonly timeoutMs?: number;
}

/** A group timed in its own child process, as the parent sees it. */
export interface RemoteGroup extends LoadedGroup {
  /** Every case of the group's kernel subjects on one shape. */
  readonly kernels: ShapeRunner;
  readonly mnist: () => Promise<CaseOutcome>;
  /** Asks the child to tear its backend down and exit; stops it if it does not. */
  readonly close: () => Promise<void>;
}

/** One child process and its one outstanding request. */
class Child {
  private gone: string | undefined;
  private pending: { resolve: (m: ChildMessage) => void; reject: (e: Error) => void } | undefined;
  private stderrTail = '';
  private readonly exited: Promise<void>;

  constructor(
    private readonly proc: ChildProcess,
    private readonly label: string,
    private readonly options: ChildOptions,
  ) {
    live.add(proc);
    const forward = (stream: NodeJS.ReadableStream | null, keep: boolean) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        if (keep) this.stderrTail = (this.stderrTail + text).slice(-4096);
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line.trim() !== '') options.log(`${label}: ${line}`);
      });
    };
    forward(proc.stdout, false);
    forward(proc.stderr, true);
    proc.on('message', (message: ChildMessage) => {
      if (message.type === 'log') options.log(message.line);
      else this.pending?.resolve(message);
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        // stderr's last bytes can arrive after 'exit'; 'close' may never come (a grandchild holding the pipe)
        const settle = () => {
          clearTimeout(timer);
          this.fail(`its child process ${signal === null ? `exited with code ${code}` : `was killed by ${signal}`}${this.tail()}`);
          resolve();
        };
        const timer = setTimeout(settle, 500);
        proc.once('close', settle);
      });
    });
    proc.on('error', (error) => this.fail(`its child process failed: ${error.message}`));
  }

  /** The last lines of stderr that say something: Node's stack frames and error properties left out. */
  private tail(): string {
    const lines: string[] = [];
    let inProperties = false;
    for (const raw of this.stderrTail.split('\n')) {
      const line = raw.trim();
      if (inProperties) inProperties = line !== '}';
      else if (line.startsWith('at ')) inProperties = line.endsWith('{');
      else if (line !== '' && !/^[\^{}()[\]]+$/.test(line) && !/^Node\.js v\d/.test(line)) lines.push(line);
    }
    const kept = lines.slice(-TAIL_LINES);
    return kept.length === 0 ? '' : `: ${kept.join(' | ').slice(-300)}`;
  }

  private fail(reason: string): void {
    this.gone ??= reason;
    this.pending?.reject(new Error(this.gone));
    this.pending = undefined;
  }

  /** The answer to `message`, or a rejection saying why there is none (the child is then gone). */
  request(message: ParentMessage): Promise<ChildMessage> {
    if (this.gone !== undefined) return Promise.reject(new Error(this.gone));
    const timeoutMs = this.options.timeoutMs ?? CHILD_TIMEOUT_MS;
    return new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`its child process did not answer within ${timeoutMs / 1000} s and was stopped`);
        this.proc.kill('SIGKILL');
      }, timeoutMs);
      const done = <T>(settle: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        this.pending = undefined;
        settle(value);
      };
      this.pending = { resolve: done(resolve), reject: done(reject) };
      this.proc.send(message, (error) => {
        if (error !== null) this.fail(`its child process cannot be reached: ${error.message}`);
      });
    }).then((answer) => {
      if (answer.type === 'error') throw new Error(answer.message);
      if (answer.type !== message.type) throw new Error(`its child process answered ${answer.type} to ${message.type}`);
      return answer;
    });
  }

  get reason(): string | undefined {
    return this.gone;
  }

  async close(): Promise<void> {
    if (this.gone === undefined) await this.request({ type: 'close' }).catch(() => {});
    if (!live.has(this.proc)) return;
    // stopped if it does not exit; waited for a little longer (a process that never started has no exit)
    const stop = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (giveUp = setTimeout(resolve, 12_000)))]);
    clearTimeout(stop);
    clearTimeout(giveUp);
  }

  get name(): string {
    return this.label;
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Forks a child for `group` and loads it there. A child that cannot start, dies or times out
 * while loading gives a skip for each of the group's names, saying why.
 */
export async function startChild(group: SubjectGroup, settings: ChildSettings, options: ChildOptions): Promise<RemoteGroup> {
  const names = groupNames(group);
  const label = names.join(',');
  const forked = fork(options.entry ?? CHILD_ENTRY, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  const child = new Child(forked, label, options);
  let loaded: LoadedGroup;
  try {
    const answer = await child.request({ type: 'load', group, settings });
    if (answer.type !== 'load') throw new Error(`unexpected ${answer.type}`);
    loaded = answer;
  } catch (error) {
    const reason = `did not load: ${reasonOf(error)}`;
    options.log(`skip ${label}: ${reason}`);
    await child.close();
    return {
      subjects: [],
      skipped: names.map((backend) => ({ backend, reason })),
      kernelNames: [],
      stepNames: [],
      kernels: async () => ({ results: [], skipped: [] }),
      mnist: async () => ({ results: [], skipped: [] }),
      close: async () => {},
    };
  }
  return { ...loaded, kernels: kernelRunner(child, loaded.kernelNames, options.log), mnist: mnistRunner(child, loaded.stepNames, options.log), close: () => child.close() };
}

function kernelRunner(child: Child, names: readonly string[], log: (line: string) => void): ShapeRunner {
  return async (inputs, ops: readonly KernelOp[], copyMs) => {
    const where = { layout: inputs.layout, shape: [...inputs.shape] } as const;
    if (names.length === 0) return { results: [], skipped: [] };
    const before = child.reason;
    if (before !== undefined) return { results: [], skipped: names.map((backend) => ({ backend, ...where, reason: `not run: ${before}` })) };
    try {
      const answer = await child.request({ type: 'kernels', shape: { layout: inputs.layout, shape: inputs.shape }, ops, copyMs });
      if (answer.type !== 'kernels') throw new Error(`unexpected ${answer.type}`);
      return { results: [...answer.results], skipped: [...answer.skipped] };
    } catch (error) {
      // the case in progress failed: a crash or a hang of the backend is a failure, not a skip
      const reason = `failed: ${reasonOf(error)}`;
      log(`${child.name} on ${inputs.layout} [${inputs.shape.join(',')}]: ${reason}`);
      const results: BenchResult[] = names.flatMap((backend) => ops.map((op) => ({ backend, op, ...where, readBack: true, error: reason })));
      return { results, skipped: [] };
    }
  };
}

function mnistRunner(child: Child, names: readonly string[], log: (line: string) => void): () => Promise<CaseOutcome> {
  return async () => {
    if (names.length === 0) return { results: [], skipped: [] };
    const before = child.reason;
    if (before !== undefined) return { results: [], skipped: names.map((backend) => ({ backend, op: 'mnistStep' as const, reason: `not run: ${before}` })) };
    try {
      const answer = await child.request({ type: 'mnist' });
      if (answer.type !== 'mnist') throw new Error(`unexpected ${answer.type}`);
      return { results: [...answer.results], skipped: [] };
    } catch (error) {
      const reason = `failed: ${reasonOf(error)}`;
      log(`${child.name} mnist: ${reason}`);
      const results: BenchResult[] = names.flatMap((backend) =>
        MNIST_VARIANTS.map((variant) => ({ backend, op: 'mnistStep' as const, variant, readBack: true, error: reason })),
      );
      return { results, skipped: [] };
    }
  };
}

/** The children's MNIST results in the in-process order: variant by variant, each in the children's order. */
export function mergeMnist(outcomes: readonly CaseOutcome[]): CaseOutcome {
  const results = MNIST_VARIANTS.flatMap((variant) => outcomes.flatMap((o) => o.results.filter((r) => r.variant === variant)));
  return { results, skipped: outcomes.flatMap((o) => o.skipped) };
}

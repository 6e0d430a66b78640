import type { Backend, TensorHandle } from './backend.js';
import { BatchNormError, describeValue } from './errors.js';

/**
 * The layer as it was before a call (a training `forward`, or a `backward`) whose finite check
 * has not settled yet (asynchronous backends only): what a non-finite verdict restores. Kept
 * lazily: the running statistics by the forward that replaced them, γ and β by the first
 * `sgdStep` after the call.
 */
interface Unchecked<T> {
  /** `numBatchesTracked` before the call. */
  readonly batchesBefore: number;
  readonly runningMean: T | undefined;
  readonly runningVar: T | undefined;
  gamma: T | undefined;
  beta: T | undefined;
}

/** What a failed check hands back to the layer: the tensors current before the failed call. */
export interface Rollback<T> {
  readonly batchesBefore: number;
  readonly running: { readonly mean: T; readonly variance: T } | undefined;
  readonly parameters: { readonly gamma: T; readonly beta: T } | undefined;
}

/**
 * A layer's finite checks still reading on an asynchronous backend, oldest first, with the
 * copies each needs for its rollback. Checks are applied in call order, whatever order their
 * reads finish in; the first non-finite one rolls the layer back (through `restore`) and drops
 * every later call, since they built on it.
 */
export class PendingChecks<T extends TensorHandle> {
  readonly #backend: Backend<T>;
  readonly #restore: (rollback: Rollback<T>) => void;
  #unchecked: Unchecked<T>[] = [];
  /** Settles when every check started so far has been applied; never rejects. */
  #checks: Promise<void> = Promise.resolve();
  /** A non-finite batch found by a check, thrown by the layer's next call. */
  #failure: unknown;
  /** Bumped by `abandon`: checks started before are then ignored. */
  #generation = 0;

  /** `restore` puts the tensors back (disposing the current ones) and releases saved state. */
  constructor(backend: Backend<T>, restore: (rollback: Rollback<T>) => void) {
    this.#backend = backend;
    this.#restore = restore;
  }

  /** Settles when every check started so far has been applied. */
  get settled(): Promise<void> {
    return this.#checks;
  }

  /**
   * Queues the check of the call just made: `verdict` rejects when it found a non-finite value;
   * `running` holds the running statistics the call replaced, if it did.
   */
  start(
    verdict: Promise<void>,
    batchesBefore: number,
    running: { runningMean: T | undefined; runningVar: T | undefined },
  ): void {
    const generation = this.#generation;
    const entry: Unchecked<T> = { batchesBefore, ...running, gamma: undefined, beta: undefined };
    this.#unchecked.push(entry);
    this.#checks = this.#checks
      .then(() => verdict)
      .then(
        () => {
          if (generation === this.#generation) this.#pass(entry);
        },
        (error: unknown) => {
          if (generation === this.#generation) this.#fail(entry, error);
        },
      );
  }

  /**
   * Before γ and β change after an unchecked call, keeps copies for its rollback. A backend may
   * update in place, and the contract has no copy kernel: `runningAverage` with factor 0 is an
   * exact one (`1·γ + 0·γ`).
   */
  keepParameters(gamma: T, beta: T): void {
    const newest = this.#unchecked.at(-1);
    if (newest === undefined || newest.gamma !== undefined) return;
    const copy = (t: T): T => this.#backend.runningAverage({ running: t, batch: t }, { factor: 0, batchScale: 1 });
    newest.gamma = copy(gamma);
    newest.beta = copy(beta);
  }

  /** Throws (once) the failure a settled check found. */
  throwFailure(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    throw failure;
  }

  /** Ignores every pending check (their verdicts no longer apply) and frees their copies. */
  abandon(): void {
    this.#generation += 1;
    for (const entry of this.#unchecked) this.#dispose(entry);
    this.#unchecked = [];
    this.#checks = Promise.resolve();
    this.#failure = undefined;
  }

  /** The oldest unchecked call was finite: what it kept is no longer needed. */
  #pass(entry: Unchecked<T>): void {
    if (this.#unchecked[0] !== entry) return; // discarded by an earlier failure
    this.#unchecked.shift();
    this.#dispose(entry);
  }

  /** Restores the layer to before `entry`'s call and drops every later unchecked call. */
  #fail(entry: Unchecked<T>, error: unknown): void {
    if (this.#unchecked[0] !== entry) return;
    const b = this.#backend;
    const all = this.#unchecked;
    this.#unchecked = [];
    // what was current at entry's call is the first copy kept at or after it
    const running = all.find((e) => e.runningMean !== undefined);
    const parameters = all.find((e) => e.gamma !== undefined);
    for (const e of all) {
      if (e !== running) for (const t of [e.runningMean, e.runningVar]) if (t !== undefined) b.dispose(t);
      if (e !== parameters) for (const t of [e.gamma, e.beta]) if (t !== undefined) b.dispose(t);
    }
    this.#restore({
      batchesBefore: entry.batchesBefore,
      running:
        running?.runningMean !== undefined && running.runningVar !== undefined
          ? { mean: running.runningMean, variance: running.runningVar }
          : undefined,
      parameters:
        parameters?.gamma !== undefined && parameters.beta !== undefined
          ? { gamma: parameters.gamma, beta: parameters.beta }
          : undefined,
    });
    this.#failure ??= error;
  }

  #dispose(entry: Unchecked<T>): void {
    for (const t of [entry.runningMean, entry.runningVar, entry.gamma, entry.beta]) {
      if (t !== undefined) this.#backend.dispose(t);
    }
  }
}

/** The first feature whose `a` or `b` is NaN or ±Infinity, or -1. */
function firstNonFinite(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!) || !Number.isFinite(b[k]!)) return k;
  return -1;
}

/** Throws `NON_FINITE_INPUT` (argument `dy`) unless every dγ and dβ is finite. */
export function assertFiniteGradients(dgamma: ArrayLike<number>, dbeta: ArrayLike<number>, batch?: number): void {
  const k = firstNonFinite(dgamma, dbeta);
  if (k < 0) return;
  throw new BatchNormError({
    code: 'NON_FINITE_INPUT',
    argument: 'dy',
    expected: 'finite values (a finite Σdy and Σdy·x̂ for every feature)',
    received: `${batch === undefined ? '' : `backward of training batch ${batch}: `}feature ${k} with dγ ${describeValue(dgamma[k])} and dβ ${describeValue(dbeta[k])}`,
    hint:
      batch === undefined
        ? 'γ, β and the gradients of the last backward were left unchanged.'
        : 'The layer was restored to before that backward (γ and β; later calls dropped).',
  });
}

/** Throws `NON_FINITE_INPUT` (argument `x`) unless every batch mean and variance is finite. */
export function assertFiniteStatistics(means: ArrayLike<number>, variances: ArrayLike<number>, batch?: number): void {
  const k = firstNonFinite(means, variances);
  if (k < 0) return;
  throw new BatchNormError({
    code: 'NON_FINITE_INPUT',
    argument: 'x',
    expected: 'finite values (a finite batch mean and variance for every feature)',
    received: `${batch === undefined ? '' : `training batch ${batch}: `}feature ${k} with mean ${describeValue(means[k])} and variance ${describeValue(variances[k])}`,
    hint:
      batch === undefined
        ? 'The running statistics were left unchanged.'
        : 'The layer was restored to before that batch (running statistics, numBatchesTracked, γ and β).',
  });
}

import { Bench } from 'tinybench';

/** How long and how often to time one task. */
export interface MeasurePlan {
  /** Untimed calls before the first round (JIT, caches, pools). */
  readonly warmupIterations: number;
  /** At least this many timed calls per round… */
  readonly minIterations: number;
  /** …and keep calling until this many milliseconds have been spent in the round. */
  readonly timeBudgetMs: number;
  /** Rounds (default 1); each gives a median, and the case reports their min/median/max. */
  readonly rounds?: number;
  /** Untimed calls before each later round (default 0): the other mode ran in between. */
  readonly roundWarmupIterations?: number;
}

export interface Measurement {
  readonly medianMs: number;
  readonly samples: number;
}

/**
 * A case over several rounds: `medianMs` is the median of the rounds' medians, `minMs` and
 * `maxMs` their extremes, `spread` = max/min − 1 (undefined with a single round).
 */
export interface RoundsMeasurement {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly roundMediansMs: readonly number[];
  /** Timed calls over all rounds. */
  readonly samples: number;
  readonly rounds: number;
  readonly spread?: number;
}

/** A case whose rounds' medians differ by more than this (max/min − 1) is flagged unstable. */
export const SPREAD_LIMIT = 0.2;

/**
 * Times `run` with tinybench: warm-up, then at least `minIterations` calls and at least
 * `timeBudgetMs`; returns the median. `now` replaces the clock (tests use a fake one); an async
 * `run` is awaited inside the timed window.
 */
export async function measure(
  name: string,
  run: () => unknown,
  plan: MeasurePlan,
  now?: () => number,
  isAsync = false,
): Promise<Measurement> {
  const bench = new Bench({
    name,
    iterations: plan.minIterations,
    time: plan.timeBudgetMs,
    warmup: plan.warmupIterations > 0,
    warmupIterations: plan.warmupIterations,
    warmupTime: 0,
    throws: true,
    ...(now === undefined ? {} : { now }),
  });
  // Saying whether `run` is async spares tinybench a detection call (seconds on slow anchors).
  bench.add(name, run, { async: isAsync });
  const [task] = await bench.run();
  const result = task?.result;
  if (result === undefined || result.state !== 'completed') {
    const reason = result !== undefined && result.state === 'errored' ? result.error.message : result?.state;
    throw new Error(`timing "${name}" did not complete: ${reason ?? 'no task'}`);
  }
  return { medianMs: result.latency.p50, samples: result.latency.samplesCount };
}

/** One task of `measureRounds`. */
export interface TimedTask {
  readonly name: string;
  readonly run: () => unknown;
  readonly isAsync: boolean;
}

/**
 * Times every task in `plan.rounds` rounds, interleaved (round 1 of each task, then round 2 of
 * each, …), so that a change of the machine's load during the case shows up as spread in each
 * task rather than as a difference between them.
 */
export async function measureRounds(
  tasks: readonly TimedTask[],
  plan: MeasurePlan,
  now?: () => number,
): Promise<RoundsMeasurement[]> {
  const rounds = Math.max(1, plan.rounds ?? 1);
  const measured: Measurement[][] = tasks.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const roundPlan = round === 0 ? plan : { ...plan, warmupIterations: plan.roundWarmupIterations ?? 0 };
    for (const [i, task] of tasks.entries()) {
      const label = rounds === 1 ? task.name : `${task.name} (round ${round + 1})`;
      measured[i]!.push(await measure(label, task.run, roundPlan, now, task.isAsync));
      // a synchronous task's timing never leaves the microtask queue: let signals and messages in
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return measured.map(summarizeRounds);
}

/** min/median/max of the rounds' medians, and their spread. */
export function summarizeRounds(rounds: readonly Measurement[]): RoundsMeasurement {
  if (rounds.length === 0) throw new Error('summarizeRounds: no rounds');
  const medians = rounds.map((r) => r.medianMs);
  const sorted = [...medians].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const minMs = sorted[0]!;
  const maxMs = sorted[sorted.length - 1]!;
  return {
    medianMs,
    minMs,
    maxMs,
    roundMediansMs: medians,
    samples: rounds.reduce((n, r) => n + r.samples, 0),
    rounds: rounds.length,
    ...(rounds.length >= 2 && minMs > 0 ? { spread: maxMs / minMs - 1 } : {}),
  };
}

/** The ratio of a measured time to the copy of the same tensor in the same run. */
export function ratioToCopy(medianMs: number, copyMedianMs: number): number {
  return medianMs / copyMedianMs;
}

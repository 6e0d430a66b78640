import { Bench } from 'tinybench';

/** How long and how often to time one task. */
export interface MeasurePlan {
  /** Untimed calls first (JIT, caches, pools). */
  readonly warmupIterations: number;
  /** At least this many timed calls… */
  readonly minIterations: number;
  /** …and keep calling until this many milliseconds have been spent. */
  readonly timeBudgetMs: number;
}

export interface Measurement {
  readonly medianMs: number;
  readonly samples: number;
}

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

/** The ratio of a measured time to the copy of the same tensor in the same run. */
export function ratioToCopy(medianMs: number, copyMedianMs: number): number {
  return medianMs / copyMedianMs;
}

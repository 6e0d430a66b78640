import type { MeasurePlan } from './measure.js';

/** A plan for the cases whose first (checked) call took more than `aboveMs`. */
export interface PlanStep {
  readonly aboveMs: number;
  readonly plan: Required<MeasurePlan>;
}

/**
 * How hard to time a case, from how long its first (checked) call took, first match wins: fast
 * kernels get warm-ups and three rounds of many samples per mode; multi-second anchors one call
 * per mode (the checked call already warmed them up), so a full run stays within minutes. The
 * PyTorch child process gets the same table.
 */
export function planTable(quick: boolean): readonly PlanStep[] {
  const p = (warmupIterations: number, minIterations: number, timeBudgetMs: number, rounds: number, roundWarmupIterations: number) => ({
    warmupIterations,
    minIterations,
    timeBudgetMs,
    rounds,
    roundWarmupIterations,
  });
  return quick
    ? [
        { aboveMs: 500, plan: p(0, 1, 0, 1, 0) },
        { aboveMs: 50, plan: p(1, 2, 0, 2, 0) },
        { aboveMs: -1, plan: p(2, 5, 100, 2, 1) },
      ]
    : [
        { aboveMs: 2000, plan: p(0, 1, 0, 1, 0) },
        { aboveMs: 200, plan: p(1, 2, 0, 3, 0) },
        { aboveMs: -1, plan: p(3, 5, 300, 3, 1) },
      ];
}

export function planFor(firstCallMs: number, quick: boolean, rounds?: number): MeasurePlan {
  const { plan } = planTable(quick).find((step) => firstCallMs > step.aboveMs)!;
  // --rounds overrides the count, except for the multi-second single-round cases.
  return rounds === undefined || plan.rounds === 1 ? plan : { ...plan, rounds };
}

/** The copy baseline is cheap and the denominator of every ratio: sample it well. */
export function copyPlan(quick: boolean, rounds?: number): MeasurePlan {
  return quick
    ? { warmupIterations: 3, minIterations: 10, timeBudgetMs: 50, rounds: rounds ?? 2, roundWarmupIterations: 1 }
    : { warmupIterations: 5, minIterations: 10, timeBudgetMs: 150, rounds: rounds ?? 3, roundWarmupIterations: 2 };
}

/**
 * An MNIST step's first call carries one-time setup (kernel compilation), so the plan follows
 * the second call: fast steps get a proper warm-up and many samples, slow ones (the float64
 * reference, tfjs-cpu, gpu.js on its CPU fallback) a few.
 */
export function mnistPlan(secondCallMs: number, quick: boolean): MeasurePlan {
  if (secondCallMs > 50) {
    return quick
      ? { warmupIterations: 0, minIterations: 2, timeBudgetMs: 0, rounds: 2 }
      : { warmupIterations: 2, minIterations: 4, timeBudgetMs: 0, rounds: 3 };
  }
  return quick
    ? { warmupIterations: 5, minIterations: 5, timeBudgetMs: 150, rounds: 2, roundWarmupIterations: 1 }
    : { warmupIterations: 10, minIterations: 10, timeBudgetMs: 500, rounds: 3, roundWarmupIterations: 2 };
}

import type { MeasurePlan } from './measure.js';

/**
 * How hard to time a case, from how long its first (checked) call took: fast kernels get a
 * warm-up and many samples; multi-second anchors get a couple (the checked call already warmed
 * them up), so a full run stays within minutes.
 */
export function planFor(firstCallMs: number, quick: boolean): MeasurePlan {
  if (quick) {
    if (firstCallMs > 500) return { warmupIterations: 0, minIterations: 1, timeBudgetMs: 0 };
    if (firstCallMs > 50) return { warmupIterations: 1, minIterations: 3, timeBudgetMs: 0 };
    return { warmupIterations: 2, minIterations: 5, timeBudgetMs: 150 };
  }
  if (firstCallMs > 2000) return { warmupIterations: 0, minIterations: 2, timeBudgetMs: 0 };
  if (firstCallMs > 200) return { warmupIterations: 1, minIterations: 5, timeBudgetMs: 0 };
  return { warmupIterations: 3, minIterations: 10, timeBudgetMs: 1000 };
}

/** The copy baseline is cheap and the denominator of every ratio: sample it well. */
export function copyPlan(quick: boolean): MeasurePlan {
  return quick
    ? { warmupIterations: 3, minIterations: 10, timeBudgetMs: 100 }
    : { warmupIterations: 5, minIterations: 30, timeBudgetMs: 500 };
}

/**
 * An MNIST step's first call carries one-time setup (kernel compilation), so the plan follows
 * the second call: fast steps get a proper warm-up and many samples, slow ones (the float64
 * reference, tfjs-cpu, gpu.js on its CPU fallback) a few.
 */
export function mnistPlan(secondCallMs: number, quick: boolean): MeasurePlan {
  if (secondCallMs > 50) {
    return quick
      ? { warmupIterations: 0, minIterations: 3, timeBudgetMs: 0 }
      : { warmupIterations: 2, minIterations: 10, timeBudgetMs: 0 };
  }
  return quick
    ? { warmupIterations: 5, minIterations: 10, timeBudgetMs: 300 }
    : { warmupIterations: 10, minIterations: 30, timeBudgetMs: 1500 };
}

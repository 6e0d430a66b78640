import { describe, expect, it } from 'vitest';
import { measure, measureRounds, ratioToCopy, summarizeRounds } from './measure.js';

/** A clock that only moves when the task says so: each call takes the next scripted duration. */
function scriptedTask(durations: number[]) {
  let clock = 0;
  let calls = 0;
  return {
    now: () => clock,
    run: () => {
      clock += durations[calls % durations.length]!;
      calls++;
    },
    get calls() {
      return calls;
    },
  };
}

describe('measure', () => {
  it('reports the median of the timed calls, not counting the warm-up', async () => {
    // The two warm-up calls take 1000 ms each; had they been counted, the median would be 7.
    let clock = 0;
    let calls = 0;
    const timed = [5, 1, 9, 3, 7];
    const run = () => {
      clock += calls < 2 ? 1000 : timed[(calls - 2) % timed.length]!;
      calls++;
    };
    const result = await measure('fake', run, { warmupIterations: 2, minIterations: 5, timeBudgetMs: 0 }, () => clock);
    expect(result.samples).toBe(5);
    expect(result.medianMs).toBe(5);
    // No hidden extra call (tinybench's async detection would cost seconds on slow anchors).
    expect(calls).toBe(7);
  });

  it('is robust to one slow outlier where a mean would not be', async () => {
    const task = scriptedTask([2, 2, 2, 2, 2, 2, 2, 2, 2, 500]);
    const result = await measure('outlier', task.run, { warmupIterations: 0, minIterations: 10, timeBudgetMs: 0 }, task.now);
    expect(result.medianMs).toBe(2);
  });

  it('keeps sampling until the time budget is spent', async () => {
    const task = scriptedTask([10]);
    const result = await measure('budget', task.run, { warmupIterations: 0, minIterations: 1, timeBudgetMs: 100 }, task.now);
    expect(result.samples).toBeGreaterThanOrEqual(10);
    expect(result.medianMs).toBe(10);
  });

  it('ratio to copy divides by the copy of the same tensor', () => {
    expect(ratioToCopy(20.4, 3.4)).toBeCloseTo(6, 10);
  });

  it('times tasks in interleaved rounds and reports min/median/max of the round medians', async () => {
    let clock = 0;
    const order: string[] = [];
    // a: every call of round r takes 10·(r+1) ms; b: always 4 ms
    let round = 0;
    const a = { name: 'a', isAsync: false, run: () => (order.push('a'), (clock += 10 * (round + 1))) };
    const b = { name: 'b', isAsync: false, run: () => (order.push('b'), (clock += 4), (round += 1)) };
    const plan = { warmupIterations: 0, minIterations: 1, timeBudgetMs: 0, rounds: 3 };
    const [ma, mb] = await measureRounds([a, b], plan, () => clock);
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(ma).toMatchObject({ medianMs: 20, minMs: 10, maxMs: 30, rounds: 3, samples: 3, roundMediansMs: [10, 20, 30] });
    expect(ma!.spread).toBeCloseTo(2, 10);
    expect(mb).toMatchObject({ medianMs: 4, minMs: 4, maxMs: 4, spread: 0 });
  });

  it('gives no spread for a single round', () => {
    expect(summarizeRounds([{ medianMs: 3, samples: 2 }])).toEqual({ medianMs: 3, minMs: 3, maxMs: 3, roundMediansMs: [3], samples: 2, rounds: 1 });
    expect(summarizeRounds([{ medianMs: 10, samples: 1 }, { medianMs: 12.5, samples: 1 }]).spread).toBeCloseTo(0.25, 10);
  });
});

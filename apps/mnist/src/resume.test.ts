// Issue 18: a run resumed from its checkpoint continues BN's running averages (`--population
// moving`) exactly, as it does every parameter.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf, runCli } from './__tests__/cliProcess.js';
import { temporaryDirectories } from './__tests__/temp.js';

const temp = temporaryDirectories('mnist-resume-');

const MOVING = ['--backend', 'js', '--population', 'moving', '--eval-every', '20', '--test-limit', '200', '--population-batches', '2'];

/** The outcome as text: the same JSON is the same bits (a number's shortest round-trip digits). */
const text = (outcome: unknown) => JSON.stringify(outcome, null, 1);

/** `outcome` without what BN's running averages decide: the averages, and the evaluations that use them. */
const withoutRunningAverages = (outcome: unknown): unknown =>
  JSON.parse(JSON.stringify(outcome), (key: string, value: unknown) =>
    ['runningMean', 'runningVar', 'evals'].includes(key) ? undefined : value,
  );

describe('--resume with --population moving', () => {
  let resumed: string;
  let whole: string;
  beforeAll(() => {
    resumed = join(temp(), 'resumed');
    expect(runCli([...MOVING, '--steps', '20', '--out', resumed]).status).toBe(0);
    expect(runCli(['--resume', resumed, '--steps', '40']).status).toBe(0);
    whole = join(temp(), 'whole');
    expect(runCli([...MOVING, '--steps', '40', '--out', whole]).status).toBe(0);
  }, 180_000);

  it('continues the weights, biases, γ, β and loss sums of a run stopped at step 20 exactly', () => {
    expect(text(withoutRunningAverages(outcomeOf(resumed)))).toBe(text(withoutRunningAverages(outcomeOf(whole))));
  });

  // js keeps the running averages in float64 beside its float32 tensors; BatchNorm's state()
  // reads them through readFloat64 and load() uploads them as Float64Array, so the checkpoint
  // holds what the layer computes with.
  it('continues its running averages, and the evaluations that use them, exactly too', () => {
    expect(text(outcomeOf(resumed))).toBe(text(outcomeOf(whole)));
  });
});

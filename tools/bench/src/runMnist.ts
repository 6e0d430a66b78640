import { createReferenceBackend } from '@batchnorm/core';
import { mismatch } from './check.js';
import { SPREAD_LIMIT, measureRounds } from './measure.js';
import { prepareContractStep } from './mnist/contractStep.js';
import { MNIST_VARIANTS, makeMnistProblem, type MnistProblem, type PreparedStep } from './mnist/problem.js';
import { mnistPlan } from './plan.js';
import type { BenchResult, MnistVariant } from './results.js';
import { firstLine } from './names.js';

/** Something that can train the paper's network one step at a time. */
export interface StepSubject {
  readonly name: string;
  prepare(variant: MnistVariant, problem: MnistProblem): Promise<PreparedStep>;
}

interface StepOutcome {
  readonly loss: number;
  readonly first: ArrayLike<number>;
  readonly last: ArrayLike<number>;
}

async function firstStep(step: PreparedStep): Promise<StepOutcome> {
  const loss = await step.run();
  return { loss, ...(await step.parameters()) };
}

/** One step's loss and updated weights against the float64 reference's. */
export function stepMismatch(got: StepOutcome, want: StepOutcome): string | undefined {
  const tolerance = { atol: 1e-4, rtol: 1e-3 };
  const whole = (values: ArrayLike<number>) => ({ length: values.length, values: Float64Array.from(values) });
  const problems = [
    mismatch('loss', [got.loss], whole([want.loss]), tolerance),
    mismatch('W1 after the step', got.first, whole(want.first), tolerance),
    mismatch('W4 after the step', got.last, whole(want.last), tolerance),
  ].filter((p) => p !== undefined);
  return problems.length === 0 ? undefined : problems.join('; ');
}

/** Checks each subject's first step against the reference's, then times further steps. */
export async function runMnist(
  subjects: readonly StepSubject[],
  options: { readonly quick: boolean; readonly log: (line: string) => void },
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const problem = makeMnistProblem();
  for (const variant of MNIST_VARIANTS) {
    const referenceStep = prepareContractStep(createReferenceBackend(), variant, problem);
    const want = await firstStep(referenceStep);
    referenceStep.dispose();
    for (const subject of subjects) {
      // The step reads its loss back every call, as a training loop does.
      const where = { backend: subject.name, op: 'mnistStep', variant, readBack: true } as const;
      let step: PreparedStep | undefined;
      let result: BenchResult;
      try {
        step = await subject.prepare(variant, problem);
        const prepared = step;
        const got = await firstStep(prepared);
        const problemText = stepMismatch(got, want);
        if (problemText !== undefined) {
          result = { ...where, error: `wrong result, not timed: ${problemText}` };
        } else {
          const started = performance.now();
          await prepared.run();
          const plan = mnistPlan(performance.now() - started, options.quick);
          const task = { name: `${subject.name} mnist ${variant}`, run: () => prepared.run(), isAsync: prepared.isAsync };
          const [m] = await measureRounds([task], plan);
          result = {
            ...where,
            medianMs: m!.medianMs,
            minMs: m!.minMs,
            maxMs: m!.maxMs,
            rounds: m!.rounds,
            ...(m!.spread === undefined ? {} : { spread: m!.spread, unstable: m!.spread > SPREAD_LIMIT }),
            samples: m!.samples,
          };
        }
      } catch (error) {
        result = { ...where, error: `failed: ${firstLine(error)}` };
      } finally {
        step?.dispose();
      }
      results.push(result);
      options.log(`mnist ${variant}: ${subject.name} ${result.error ?? `${result.medianMs!.toFixed(3)} ms/step`}`);
    }
  }
  return results;
}

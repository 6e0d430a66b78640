import { asyncOnly, createReferenceBackend } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { makeInputs } from './data.js';
import { expectationsFor } from './expected.js';
import { makeMnistProblem } from './mnist/problem.js';
import { runKernelCase } from './runKernels.js';
import { runMnist } from './runMnist.js';
import { contractSubject } from './subjects/contractSubject.js';
import { contractStepSubject } from './subjects/stepSubjects.js';

const options = { quick: true, log: () => {}, plan: () => ({ warmupIterations: 0, minIterations: 2, timeBudgetMs: 0 }) };

describe('a backend that reads asynchronously only', () => {
  it('has its kernels read back through read, awaited inside the timed call, and checked', async () => {
    const inputs = makeInputs({ layout: 'NCL', shape: [3, 4, 5] });
    const expected = expectationsFor(inputs);
    const subject = contractSubject(asyncOnly(createReferenceBackend()));
    for (const op of ['forwardTraining', 'forwardInference', 'backward'] as const) {
      const prepared = await subject.prepare(op, inputs);
      expect(prepared.isAsync).toBe(true);
      prepared.dispose();
      const { results } = await runKernelCase(subject, op, inputs, expected, 1, options);
      expect(results.map((r) => [r.readBack, r.error]), op).toEqual([
        [true, undefined],
        [false, undefined],
      ]);
      for (const r of results) expect(r.medianMs).toBeGreaterThan(0);
    }
  });

  it('trains the MNIST step, reading the loss with read, as the reference does', async () => {
    const subject = contractStepSubject(asyncOnly(createReferenceBackend()));
    const step = await subject.prepare('bn', makeMnistProblem());
    expect(step.isAsync).toBe(true);
    step.dispose();
    const results = await runMnist([subject], { quick: true, log: () => {} });
    expect(results.map((r) => [r.variant, r.error])).toEqual([
      ['bn', undefined],
      ['plain', undefined],
    ]);
  }, 120_000);
});

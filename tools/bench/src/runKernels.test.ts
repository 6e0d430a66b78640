import { createReferenceBackend } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { makeInputs } from './data.js';
import { expectationsFor } from './expected.js';
import { runKernelCase } from './runKernels.js';
import { contractSubject } from './subjects/contractSubject.js';
import type { KernelSubject } from './subjects/subject.js';

const fastPlan = () => ({ warmupIterations: 0, minIterations: 3, timeBudgetMs: 0 });
const options = { quick: true, log: () => {}, plan: fastPlan };

/** The reference backend with its training forward's y nudged by 0.01 at one element, counting calls. */
function slightlyWrongSubject(): KernelSubject & { calls: number } {
  const inner = contractSubject(createReferenceBackend());
  const subject = {
    name: 'wrong',
    details: {},
    calls: 0,
    async prepare(...args: Parameters<KernelSubject['prepare']>) {
      const prepared = await inner.prepare(...args);
      return {
        isAsync: true,
        run: async () => {
          subject.calls++;
          const outputs = await prepared.run();
          const y = Float64Array.from(outputs.y ?? []);
          y[y.length - 1]! += 0.01;
          return { ...outputs, y };
        },
        dispose: () => prepared.dispose(),
      };
    },
    destroy() {},
  };
  return subject;
}

describe('the correctness gate', () => {
  for (const shape of [
    { layout: 'NC', shape: [60, 100] },
    { layout: 'NCHW', shape: [2, 3, 4, 5] },
  ] as const) {
    it(`reports a backend with a wrong result as failed and never times it (${shape.layout})`, async () => {
      const inputs = makeInputs(shape);
      const subject = slightlyWrongSubject();
      const result = await runKernelCase(subject, 'forwardTraining', inputs, expectationsFor(inputs), 1, options);
      expect(result.error).toMatch(/^wrong result, not timed: y\[/);
      expect(result.medianMs).toBeUndefined();
      expect(subject.calls).toBe(1);
    });
  }

  it('times a correct backend after checking it, on every kernel', async () => {
    const inputs = makeInputs({ layout: 'NHWC', shape: [2, 3, 3, 4] });
    const expected = expectationsFor(inputs);
    for (const op of ['forwardTraining', 'forwardInference', 'backward'] as const) {
      const result = await runKernelCase(contractSubject(createReferenceBackend()), op, inputs, expected, 0.5, options);
      expect(result.error).toBeUndefined();
      expect(result.medianMs).toBeGreaterThan(0);
      expect(result.ratioToCopy).toBeCloseTo(result.medianMs! / 0.5, 10);
      expect(result.samples).toBeGreaterThanOrEqual(3);
    }
  });

  it('reports a kernel that throws as failed', async () => {
    const inputs = makeInputs({ layout: 'NC', shape: [4, 3] });
    const throwing: KernelSubject = {
      name: 'throws',
      details: {},
      prepare: async () => ({
        isAsync: false,
        run: () => {
          throw new Error('kernel exploded');
        },
        dispose() {},
      }),
      destroy() {},
    };
    const result = await runKernelCase(throwing, 'backward', inputs, expectationsFor(inputs), 1, options);
    expect(result.error).toBe('failed: kernel exploded');
  });
});

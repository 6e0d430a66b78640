import { describe, expect, it } from 'vitest';
import { makeInputs } from '../data.js';
import { expectationsFor } from '../expected.js';
import { runKernelCase } from '../runKernels.js';
import { activateTfjs, tf } from '../tfjs.js';
import type { KernelSubject } from './subject.js';
import { tfjsComposedSubject } from './tfjsComposedSubject.js';

const options = { quick: true, log: () => {}, plan: () => ({ warmupIterations: 0, minIterations: 2, timeBudgetMs: 0 }) };
const nchw = { layout: 'NCHW', shape: [2, 3, 4, 5] } as const;

describe('tfjs anchors', () => {
  for (const engine of ['cpu', 'wasm'] as const) {
    it(`tfjs-${engine} passes the gate on NCHW (transposed to NHWC) for every kernel`, async () => {
      const subject = await tfjsComposedSubject(engine);
      if (typeof subject === 'string') throw new Error(subject);
      const inputs = makeInputs(nchw);
      const expected = expectationsFor(inputs);
      for (const op of ['forwardTraining', 'forwardInference', 'backward'] as const) {
        const { results } = await runKernelCase(subject, op, inputs, expected, 1, options);
        expect(results.map((r) => [r.readBack, r.error]), `${engine} ${op}`).toEqual([
          [true, undefined],
          [false, undefined],
        ]);
      }
    });
  }

  it('the gate rejects the naive NCHW composition on tfjs-cpu ([1,C,1,1] statistics)', async () => {
    expect(await activateTfjs('cpu')).toBeUndefined();
    const naive: KernelSubject = {
      name: 'tfjs-cpu-naive',
      details: {},
      prepare: async (_op, inputs) => {
        const x = tf.tensor(inputs.x, [...inputs.shape]);
        const c = inputs.gamma.length;
        const r = (v: Float32Array) => tf.tensor(v, [1, c, 1, 1]);
        return {
          isAsync: false,
          run: () =>
            tf.tidy(() => {
              const { mean, variance } = tf.moments(x, [0, 2, 3], true);
              const y = tf.batchNorm(x, mean, variance, r(inputs.beta), r(inputs.gamma), inputs.epsilon);
              return { y: y.dataSync(), mean: mean.dataSync(), variance: variance.dataSync() };
            }),
          resident: { unavailable: 'not needed here' },
          dispose: () => x.dispose(),
        };
      },
      destroy() {},
    };
    const inputs = makeInputs(nchw);
    const { results } = await runKernelCase(naive, 'forwardTraining', inputs, expectationsFor(inputs), 1, options);
    expect(results).toHaveLength(1);
    expect(results[0]!.error).toMatch(/^wrong result, not timed: y\[/);
  });
});

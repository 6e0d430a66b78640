import { describe, expect, it } from 'vitest';
import { checkOutputs } from './check.js';
import { makeInputs } from './data.js';
import { referenceExpectations, sampledExpectations, sampledFeatures, type ExpectedArray } from './expected.js';

describe('expectations', () => {
  it('samples the first, the last and evenly spread features', () => {
    expect(sampledFeatures(4096, 8)).toEqual([0, 585, 1170, 1755, 2340, 2925, 3510, 4095]);
    expect(sampledFeatures(3, 8)).toEqual([0, 1, 2]);
  });

  for (const shape of [
    { layout: 'NC', shape: [50, 20] },
    { layout: 'NCHW', shape: [3, 20, 4, 5] },
    { layout: 'NHWC', shape: [3, 4, 5, 20] },
  ] as const) {
    it(`the sampled float64 recomputation agrees with core's reference (${shape.layout})`, () => {
      const inputs = makeInputs(shape);
      const reference = referenceExpectations(inputs);
      const sampled = sampledExpectations(inputs);
      for (const op of ['forwardTraining', 'forwardInference', 'backward'] as const) {
        for (const [name, want] of Object.entries(sampled[op]) as [string, ExpectedArray][]) {
          expect(want.indices!.length).toBeGreaterThan(0);
          const full = reference[op][name as keyof (typeof reference)[typeof op]]!.values;
          want.indices!.forEach((i, j) => expect(want.values[j]).toBeCloseTo(full[i]!, 10));
        }
      }
    });
  }

  it('a sampled check fails when a checked element is off', () => {
    const inputs = makeInputs({ layout: 'NCHW', shape: [2, 10, 3, 3] });
    const y = sampledExpectations(inputs).forwardTraining.y!;
    const full = new Float64Array(y.length);
    y.indices!.forEach((i, j) => (full[i] = y.values[j]!));
    expect(checkOutputs({ y: full }, { y }, 18)).toBeUndefined();
    full[y.indices![y.indices!.length - 1]!]! += 0.1;
    expect(checkOutputs({ y: full }, { y }, 18)).toMatch(/^y\[/);
  });
});

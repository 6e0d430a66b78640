import { describe, expect, it } from 'vitest';
import { runningAverageAttrs } from './runningStatistics.js';

describe('runningAverageAttrs', () => {
  it('scales only the variance, by m/(m−1) when unbiased', () => {
    expect(runningAverageAttrs(0.1, 'unbiased', 60)).toEqual({
      mean: { factor: 0.1, batchScale: 1 },
      variance: { factor: 0.1, batchScale: 60 / 59 },
    });
    expect(runningAverageAttrs(0.3, 'biased', 60)).toEqual({
      mean: { factor: 0.3, batchScale: 1 },
      variance: { factor: 0.3, batchScale: 1 },
    });
  });
});

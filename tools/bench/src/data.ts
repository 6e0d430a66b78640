import { createRandom, geometryOf, flatIndex } from '@batchnorm/core';
import type { BenchShape } from './shapes.js';

/** The host inputs of every kernel on one shape, float32 as the backends take them. */
export interface KernelInputs extends BenchShape {
  readonly epsilon: number;
  readonly x: Float32Array;
  readonly dy: Float32Array;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  /** Population statistics for inference. */
  readonly populationMean: Float32Array;
  readonly populationVariance: Float32Array;
}

/**
 * Seeded inputs. Each feature gets its own offset and scale, so a kernel that mixes features up
 * (the NCHW broadcast pitfall) or skips the mean cannot pass the correctness gate.
 */
export function makeInputs(s: BenchShape, seed = 7): KernelInputs {
  const g = geometryOf(s.layout, s.shape);
  const random = createRandom(seed);
  const offset = Float64Array.from({ length: g.c }, () => 4 * random.uniform() - 2);
  const scale = Float64Array.from({ length: g.c }, () => 0.5 + 1.5 * random.uniform());
  const x = new Float32Array(g.size);
  const dy = new Float32Array(g.size);
  for (let n = 0; n < g.n; n++) {
    for (let c = 0; c < g.c; c++) {
      for (let p = 0; p < g.spatial; p++) {
        const i = flatIndex(g, n, c, p);
        x[i] = offset[c]! + scale[c]! * random.normal();
        dy[i] = random.normal();
      }
    }
  }
  return {
    ...s,
    epsilon: 1e-5,
    x,
    dy,
    gamma: Float32Array.from({ length: g.c }, () => 0.5 + random.uniform()),
    beta: Float32Array.from({ length: g.c }, () => random.uniform() - 0.5),
    populationMean: Float32Array.from(offset, (o) => o + 0.1 * random.normal()),
    populationVariance: Float32Array.from(scale, (sc) => sc * sc * (0.9 + 0.2 * random.uniform())),
  };
}

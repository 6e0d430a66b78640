import { createRandom, geometryOf, Mulberry32 } from '@batchnorm/core';
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
  fillNormal(x, seed + 1);
  fillNormal(dy, seed + 2);
  // Walk memory in order; the feature of flat index i is i mod C (NC, NHWC) or ⌊i/HW⌋ mod C.
  const perFeatureRun = s.layout === 'NCHW' ? g.spatial : 1;
  for (let i = 0; i < g.size; i++) {
    const c = Math.floor(i / perFeatureRun) % g.c;
    x[i] = offset[c]! + scale[c]! * x[i]!;
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

/**
 * Standard normals, seeded: core's mulberry32 and Box–Muller in one loop, both normals of a pair
 * kept (tens of millions of values per run).
 */
function fillNormal(out: Float32Array, seed: number): void {
  const source = new Mulberry32(seed);
  for (let i = 0; i < out.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - source.uniform()));
    const angle = 2 * Math.PI * source.uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle);
  }
}

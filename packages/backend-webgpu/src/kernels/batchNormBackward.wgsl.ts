import { read, written } from '../wgsl.js';
import { channelSums, channelSweep } from './channelShader.js';

/** `x̂` of value `i` of feature `c` from the forward's `saved` = `(shift, μ − shift, 1/√(σ²+ε), σ²)`. */
const X_HAT = 'fn xHat(i: u32, s: vec4f) -> f32 { return ((x[i] - s.x) - s.y) * s.z; }';

/** Pass 1 of 2: each workgroup sums `(Σdy, Σdy·x̂)` over its chunk of one feature. */
export const batchNormBackwardSums = channelSums({
  label: 'batchNormBackward/sums',
  storage: [read('dy'), read('x'), read('saved', 'vec4f'), written('partials', 'vec2f')],
  helpers: X_HAT,
  setup: 'let s = saved[c];',
  each: /* wgsl */ `let g = dy[i];
    acc += vec2f(g, g * xHat(i, s));`,
});

/**
 * Pass 2 of 2: each workgroup adds its feature's partials, the first one writes `dβ = Σdy` and
 * `dγ = Σdy·x̂`, and every one sweeps its chunk: `dx = γ·invStd·(dy − Σdy/m − x̂·Σ(dy·x̂)/m)`, the
 * seed's chain rule simplified.
 */
export const batchNormBackwardApply = channelSweep({
  label: 'batchNormBackward/apply',
  storage: [
    read('dy'),
    read('x'),
    read('gamma'),
    read('saved', 'vec4f'),
    read('partials', 'vec2f'),
    written('dx'),
    written('dgamma'),
    written('dbeta'),
  ],
  helpers: X_HAT,
  merge: true,
  setup: /* wgsl */ `if (j == 0u && li == 0u) {
    dbeta[c] = sums.x;
    dgamma[c] = sums.y;
  }
  let s = saved[c];
  let scale = gamma[c] * s.z;
  let mf = f32(p.m);
  let meanDy = sums.x / mf;
  let meanDyXHat = sums.y / mf;`,
  each: 'dx[i] = scale * ((dy[i] - meanDy) - xHat(i, s) * meanDyXHat);',
});

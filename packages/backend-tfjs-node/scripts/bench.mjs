#!/usr/bin/env node
// Micro-benchmark: this backend's fused kernels (FusedBatchNormV3 / FusedBatchNormGradV3) against
// tfjs-node's own composition (tf.moments + tf.batchNorm, gradients by tf.grads), measured in the
// same run on the same tensors. Prints medians (ms) and composition/fused ratios (> 1: fused wins).
//
// Usage: pnpm --filter @batchnorm/backend-tfjs-node bench [--quick] [--reps N] [--json]
// (build first: pnpm turbo run build --filter=@batchnorm/backend-tfjs-node...)
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createRandom } from '@batchnorm/core';
import { createBackend } from '../dist/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const repsIndex = args.indexOf('--reps');
const reps = repsIndex >= 0 ? Number(args[repsIndex + 1]) : quick ? 5 : 9;

const CASES = quick
  ? [
      { layout: 'NC', shape: [1024, 1024] },
      { layout: 'NCHW', shape: [8, 64, 28, 28] },
      { layout: 'NHWC', shape: [8, 28, 28, 64] },
    ]
  : [
      { layout: 'NC', shape: [4096, 4096] },
      { layout: 'NCHW', shape: [32, 64, 56, 56] },
      { layout: 'NHWC', shape: [32, 56, 56, 64] },
    ];

const print = (line) => process.stdout.write(`${line}\n`);
const backend = createBackend(); // sets TF_ENABLE_ONEDNN_OPTS before TensorFlow loads
const tf = createRequire(import.meta.url)('@tensorflow/tfjs-node');

const featureAxis = { NC: 1, NCHW: 1, NHWC: 3 };
const reduceAxes = { NC: [0], NCHW: [0, 2, 3], NHWC: [0, 1, 2] };

function randomData(seed, length) {
  const random = createRandom(seed);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = random.normal();
  return data;
}

/** Median wall time of `f` (ms) after 2 warm-ups; `f` returns the tensors to dispose. */
function median(f) {
  const times = [];
  for (let i = 0; i < reps + 2; i++) {
    const start = performance.now();
    const out = f();
    const time = performance.now() - start;
    tf.dispose(out);
    if (i >= 2) times.push(time);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const results = [];
for (const { layout, shape } of CASES) {
  const size = shape.reduce((a, d) => a * d, 1);
  const c = shape[featureAxis[layout]];
  const x = backend.upload(randomData(1, size), shape);
  const dy = backend.upload(randomData(2, size), shape);
  const gamma = backend.upload(randomData(3, c).map((v) => 1 + v / 4), [c]);
  const beta = backend.upload(randomData(4, c), [c]);
  const attrs = { layout, epsilon: 1e-5 };

  // Ours: the forward keeps mean/variance for the backward, as the BatchNorm layer does.
  const fusedForward = () => Object.values(backend.batchNormForwardTraining({ x, gamma, beta }, attrs)).map((t) => t.tensor);
  const saved = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
  const fusedBackward = () =>
    Object.values(backend.batchNormBackward({ dy, x, gamma, mean: saved.mean, variance: saved.variance }, attrs)).map((t) => t.tensor);
  const fusedStep = () => [...fusedForward(), ...fusedBackward()];

  // tfjs-node's composition. Per-feature vectors broadcast along the last axis (NC, NHWC). For
  // NCHW they must be [1, C, 1, 1]; there tf.batchNorm's gradient fails (it reshapes dγ to [C]
  // wrongly), so the same arithmetic tfjs-node's batchNorm runs for such shapes is written out.
  const composed = (xt, g, b) => {
    if (layout !== 'NCHW') {
      const { mean, variance } = tf.moments(xt, reduceAxes[layout]);
      return tf.batchNorm(xt, mean, variance, b, g, 1e-5);
    }
    const { mean, variance } = tf.moments(xt, reduceAxes[layout], true);
    const scale = tf.mul(tf.rsqrt(tf.add(variance, 1e-5)), tf.reshape(g, [1, c, 1, 1]));
    return tf.add(tf.mul(tf.sub(xt, mean), scale), tf.reshape(b, [1, c, 1, 1]));
  };
  const composedForward = () => tf.tidy(() => composed(x.tensor, gamma.tensor, beta.tensor));
  const gradients = tf.grads(composed);
  const composedStep = () => tf.tidy(() => gradients([x.tensor, gamma.tensor, beta.tensor], dy.tensor));

  const row = {
    layout,
    shape,
    fused: { forward: median(fusedForward), backward: median(fusedBackward), step: median(fusedStep) },
    composed: { forward: median(composedForward), step: median(composedStep) },
  };
  row.ratio = { forward: row.composed.forward / row.fused.forward, step: row.composed.step / row.fused.step };
  results.push(row);
  for (const t of [x, dy, gamma, beta, saved.y, saved.mean, saved.variance]) backend.dispose(t);

  if (!json) {
    const ms = (v) => v.toFixed(1).padStart(8);
    const ratio = (v) => `${v.toFixed(2)}×`.padStart(7);
    if (results.length === 1) {
      print(
        `tfjs-node ${backend.details.tfjsNode}, TensorFlow ${backend.details.tensorflow}, oneDNN ${backend.details.oneDNN ? 'on' : 'off'}; median of ${reps} (ms)\n` +
          'shape                  | fused fwd | fused bwd | fused fwd+bwd | composed fwd | composed fwd+bwd (tf.grads) | ratio fwd | ratio fwd+bwd',
      );
    }
    print(
      `${`${layout} [${shape.join(',')}]`.padEnd(22)} | ${ms(row.fused.forward)}  | ${ms(row.fused.backward)}  | ${ms(row.fused.step)}      | ${ms(row.composed.forward)}     | ${ms(row.composed.step)}                    | ${ratio(row.ratio.forward)}  | ${ratio(row.ratio.step)}`,
    );
  }
}
if (json) print(JSON.stringify({ details: backend.details, reps, results }, null, 2));

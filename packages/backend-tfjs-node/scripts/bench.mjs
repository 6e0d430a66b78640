#!/usr/bin/env node
// Micro-benchmark: this backend's batch-norm kernels (TensorFlow's FusedBatchNormV3 /
// FusedBatchNormGradV3 for NC and channels-last, a tfjs composition for channels-first) against tfjs-node's own
// composition (tf.moments + tf.batchNorm, gradients by tf.grads), measured in the same run on the
// same tensors. Prints medians (ms) and composition/ours ratios (> 1: ours faster).
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

const medianOf = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * Runs the variants round-robin in a shuffled order each round (so all see the same machine load,
 * the cores being shared, and none always follows the same neighbour), 2 warm-up rounds then
 * `reps` measured. Returns per variant the median wall time and the median
 * CPU time of this process (user + system, all threads; steadier under load). Each variant
 * returns the tensors to dispose; TensorFlow's CPU ops are done when they return.
 */
function measure(variants) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, { wall: [], cpu: [] }]));
  const shuffle = createRandom(7);
  for (let round = 0; round < reps + 2; round++) {
    const order = Object.entries(variants);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle.uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const [name, f] of order) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const out = f();
      const wall = performance.now() - start;
      const cpu = process.cpuUsage(cpuStart);
      tf.dispose(out);
      if (round >= 2) {
        samples[name].wall.push(wall);
        samples[name].cpu.push((cpu.user + cpu.system) / 1000);
      }
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, { wall, cpu }]) => [name, { wall: medianOf(wall), cpu: medianOf(cpu) }]),
  );
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

  // Ours (fused ops for NC/NHWC, composed for NCHW): the forward's `saved` feeds the backward,
  // as the BatchNorm layer does. (tf.dispose walks `saved`'s tensors too.)
  const fusedForward = () => {
    const { y, mean, variance, saved } = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
    return [y.tensor, mean.tensor, variance.tensor, saved];
  };
  const forward = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
  const fusedBackward = () =>
    Object.values(backend.batchNormBackward({ dy, x, gamma, saved: forward.saved }, attrs)).map((t) => t.tensor);
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

  const m = measure({
    oursForward: fusedForward,
    oursBackward: fusedBackward,
    oursStep: fusedStep,
    composedForward,
    composedStep,
  });
  const row = { layout, shape, medians: m };
  row.ratio = {
    forward: { wall: m.composedForward.wall / m.oursForward.wall, cpu: m.composedForward.cpu / m.oursForward.cpu },
    step: { wall: m.composedStep.wall / m.oursStep.wall, cpu: m.composedStep.cpu / m.oursStep.cpu },
  };
  results.push(row);
  for (const t of [x, dy, gamma, beta, forward.y, forward.mean, forward.variance]) backend.dispose(t);
  backend.disposeSaved(forward.saved);

  if (!json) {
    const both = (v) => `${v.wall.toFixed(1)} / ${v.cpu.toFixed(1)}`.padStart(15);
    const ratio = (v) => `${v.wall.toFixed(2)}× / ${v.cpu.toFixed(2)}×`.padStart(15);
    if (results.length === 1) {
      print(
        `tfjs-node ${backend.details.tfjsNode}, TensorFlow ${backend.details.tensorflow}, oneDNN ${backend.details.oneDNN ? 'on' : 'off'}, ` +
          `allocator ${process.env.TF_CPU_ALLOCATOR_USE_BFC === 'true' ? 'BFC (pooled)' : 'default'}; ` +
          `medians of ${reps} interleaved rounds, ms wall / ms CPU; ratio = tfjs composition ÷ ours (> 1: ours faster)\n` +
          'shape                 |     ours fwd    |     ours bwd    |  ours fwd+bwd   |   tfjs fwd      | tfjs fwd+bwd    |  ratio fwd      | ratio fwd+bwd',
      );
    }
    print(
      `${`${layout} [${shape.join(',')}]`.padEnd(21)} | ${both(m.oursForward)} | ${both(m.oursBackward)} | ${both(m.oursStep)} | ${both(m.composedForward)} | ${both(m.composedStep)} | ${ratio(row.ratio.forward)} | ${ratio(row.ratio.step)}`,
    );
  }
}
if (json) print(JSON.stringify({ details: backend.details, reps, results }, null, 2));

import { BatchNorm } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { randomValues } from '@batchnorm/conformance/testing';
import { tfjs } from './__tests__/helpers.js';
import { loadTensorFlow } from './loader.js';

const { tf } = loadTensorFlow();

describe('memory on tfjs-node', () => {
  it.each([
    ['NHWC', [4, 3, 3, 8]],
    ['NCHW', [4, 8, 3, 3]],
    ['NC', [16, 8]],
    ['NCL', [4, 8, 9]],
    ['NDHWC', [2, 2, 3, 3, 8]],
  ] as const)(
    'tf.memory().numTensors stays flat across 1,000 training steps of a BatchNorm layer (%s)',
    (layout, shape) => {
      const size = shape.reduce((a, d) => a * d, 1);
      const x = tfjs.upload(randomValues(1, size), shape);
      const dy = tfjs.upload(randomValues(2, size), shape);
      const layer = new BatchNorm(tfjs, { numFeatures: 8, layout });
      const step = (): void => {
        tfjs.dispose(layer.forward(x));
        tfjs.dispose(layer.backward(dy));
        layer.sgdStep(0.01);
      };
      step();
      const afterFirstStep = tf.memory().numTensors;
      for (let i = 1; i < 1000; i++) step();
      expect(tf.memory().numTensors).toBe(afterFirstStep);
      expect(tfjs.readSync(layer.gamma).every(Number.isFinite)).toBe(true);
      layer.dispose();
      tfjs.dispose(x);
      tfjs.dispose(dy);
    },
    // 1,000 steps take ~1 s alone; the machine is shared.
    120_000,
  );

  it('every kernel leaves exactly its outputs behind', () => {
    const before = tf.memory().numTensors;
    const x = tfjs.upload(randomValues(3, 24), [6, 4]);
    const w = tfjs.upload(randomValues(4, 12), [4, 3]);
    const bias = tfjs.upload(randomValues(5, 4), [4]);
    const labels = tfjs.upload(Float32Array.from({ length: 18 }, (_, i) => (i % 3 === 0 ? 1 : 0)), [6, 3]);
    expect(tf.memory().numTensors).toBe(before + 4);
    const attrs = { layout: 'NC', epsilon: 1e-5 } as const;
    const forward = tfjs.batchNormForwardTraining({ x, gamma: bias, beta: bias }, attrs);
    // saved: the three reserve spaces of FusedBatchNormV3, on top of y, mean and variance.
    expect(tf.memory().numTensors).toBe(before + 4 + 3 + 3);
    const outputs = [
      forward.y,
      forward.mean,
      forward.variance,
      ...Object.values(tfjs.batchNormBackward({ dy: x, x, gamma: bias, saved: forward.saved }, attrs)),
      tfjs.batchNormForwardInference({ x, gamma: bias, beta: bias, mean: forward.mean, variance: forward.variance }, attrs),
      tfjs.runningAverage({ running: bias, batch: forward.mean }, { factor: 0.1, batchScale: 6 / 5 }),
      tfjs.matMul(x, w),
      tfjs.addBias(x, bias),
      tfjs.sumRows(x),
      tfjs.sigmoid(x),
      tfjs.sigmoidBackward(x, x),
      tfjs.relu(x),
      tfjs.reluBackward(x, x),
      ...Object.values(tfjs.softmaxCrossEntropy(tfjs.matMul(x, w), labels)),
    ];
    // + the matMul feeding softmaxCrossEntropy, + saved
    expect(tf.memory().numTensors).toBe(before + 4 + outputs.length + 1 + 3);
    tfjs.disposeSaved(forward.saved);
    tfjs.disposeSaved(forward.saved);
    expect(tf.memory().numTensors).toBe(before + 4 + outputs.length + 1);
    for (const t of [x, w, bias, labels, ...outputs]) tfjs.dispose(t);
  });

  it('saved of the composed route holds two tensors of its own, released by disposeSaved', () => {
    const before = tf.memory().numTensors;
    const x = tfjs.upload(randomValues(6, 72), [2, 4, 9]);
    const gamma = tfjs.upload(randomValues(7, 4), [4]);
    const forward = tfjs.batchNormForwardTraining({ x, gamma, beta: gamma }, { layout: 'NCL', epsilon: 1e-5 });
    expect(tf.memory().numTensors).toBe(before + 2 + 3 + 2);
    for (const t of [forward.y, forward.mean, forward.variance]) tfjs.dispose(t);
    expect(tf.memory().numTensors).toBe(before + 2 + 2);
    tfjs.disposeSaved(forward.saved);
    expect(tf.memory().numTensors).toBe(before + 2);
    tfjs.dispose(x);
    tfjs.dispose(gamma);
  });
});

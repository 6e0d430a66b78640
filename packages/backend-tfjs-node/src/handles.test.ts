import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm, type BatchNormAttrs } from '@batchnorm/core';
import { createBackend } from './backend.js';
import { loadTensorFlow } from './loader.js';
import type { TfjsNodeTensor } from './types.js';
import { randomValues } from '@batchnorm/conformance/testing';
import { reference, tfjs } from './__tests__/helpers.js';

// Issue 13, item 8 on the tfjs-node backend (conformance's errors/handles/* run every kind on
// every kernel): the hazards particular to this backend, each of which failed before the fix.

const { tf } = loadTensorFlow();
const attrs: BatchNormAttrs = { layout: 'NC', epsilon: 1e-5 };
const shape = [8, 3];

/** A BatchNormError INVALID_HANDLE naming `argument` (a TypeError or another error does not match). */
const invalidHandle = (argument: string) => expect.objectContaining({ name: 'BatchNormError', code: 'INVALID_HANDLE', argument });

describe('tfjs-node handles', () => {
  const other = createBackend();
  afterAll(() => other.destroy());

  it('a disposed tensor: INVALID_HANDLE naming the argument (it was TensorFlow\'s bare "Tensor is disposed")', () => {
    const t = tfjs.upload(randomValues(1, 24), shape);
    tfjs.dispose(t);
    expect(() => tfjs.readSync(t)).toThrow(expect.objectContaining({ code: 'INVALID_HANDLE', argument: 't', received: expect.stringContaining('disposed') }));
    expect(() => tfjs.sigmoid(t)).toThrow(invalidHandle('x'));
  });

  it('a tensor TensorFlow released behind the backend (tf.tidy, tensor.dispose()): INVALID_HANDLE, not a TypeError', () => {
    // a layer step inside the user's own tf.tidy: tidy disposes every tensor made in it and not returned
    let inTidy: TfjsNodeTensor | undefined;
    tf.tidy(() => {
      inTidy = tfjs.upload(randomValues(3, 24), shape);
    });
    expect(() => tfjs.relu(inTidy!)).toThrow(invalidHandle('x'));
    const t = tfjs.upload(randomValues(4, 24), shape);
    t.tensor.dispose();
    expect(tfjs.isTensor(t)).toBe(false);
    expect(() => tfjs.relu(t)).toThrow(invalidHandle('x'));
    tfjs.dispose(t);
  });

  it('a tensor of another tfjs-node instance, and the reference\'s: INVALID_HANDLE through the layer and the kernels', () => {
    const foreign = other.upload(randomValues(5, 24), shape);
    const layer = new BatchNorm(tfjs, { numFeatures: 3 });
    expect(() => layer.forward(foreign)).toThrow(invalidHandle('x'));
    const x = tfjs.upload(randomValues(6, 24), shape);
    const gamma = tfjs.upload(new Float32Array(3).fill(1), [3]);
    const { saved, y, mean, variance } = tfjs.batchNormForwardTraining({ x, gamma, beta: gamma }, attrs);
    const dy = reference.upload(randomValues(7, 24), shape) as unknown as TfjsNodeTensor;
    expect(() => tfjs.batchNormBackward({ dy, x, gamma, saved }, attrs)).toThrow(invalidHandle('dy'));
    expect(() => tfjs.dispose(foreign)).toThrow(invalidHandle('t'));
    expect(layer.numBatchesTracked).toBe(0);
    tfjs.disposeSaved(saved);
    for (const t of [x, gamma, y, mean, variance]) tfjs.dispose(t);
    other.dispose(foreign);
    layer.dispose();
  });

  it('a shape cannot be changed', () => {
    const t = tfjs.upload(randomValues(8, 24), shape);
    expect(() => {
      (t as unknown as { shape: number[] }).shape = [24];
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as { tensor: unknown }).tensor = null;
    }).toThrow(TypeError);
    expect([...t.shape]).toEqual(shape);
    tfjs.dispose(t);
  });
});

import { BatchNorm, type Backend, type TensorHandle } from '@batchnorm/core';
import { randomValues } from '@batchnorm/conformance/testing';

const [BATCH, INPUTS, HIDDEN, CLASSES] = [32, 24, 16, 10];
const LEARNING_RATE = 0.5;

export interface StepResult<T> {
  readonly loss: T;
  readonly w1: T;
  readonly w2: T;
  readonly b2: T;
}

/**
 * One SGD step of `x → matMul W1 → BatchNorm → sigmoid → matMul W2 → addBias b2 → softmax
 * cross-entropy`, forward and backward, written once against the contract.
 */
export function trainingStep<T extends TensorHandle>(backend: Backend<T>): StepResult<T> {
  const up = (data: Float64Array, shape: number[]): T => backend.upload(Float32Array.from(data), shape);
  const x = up(randomValues(21, BATCH * INPUTS), [BATCH, INPUTS]);
  const labelsData = new Float64Array(BATCH * CLASSES);
  for (let n = 0; n < BATCH; n++) labelsData[n * CLASSES + ((n * 3) % CLASSES)] = 1;
  const labels = up(labelsData, [BATCH, CLASSES]);
  let w1 = up(randomValues(22, INPUTS * HIDDEN, 0.3), [INPUTS, HIDDEN]);
  let w2 = up(randomValues(23, HIDDEN * CLASSES, 0.3), [HIDDEN, CLASSES]);
  let b2 = up(randomValues(24, CLASSES, 0.1), [CLASSES]);
  // checkFinite would read the batch statistics back: off, so the step stays on the device.
  const bn = new BatchNorm(backend, { numFeatures: HIDDEN, checkFinite: false });

  const u = backend.matMul(x, w1);
  const normalized = bn.forward(u);
  const h = backend.sigmoid(normalized);
  const z = backend.matMul(h, w2);
  const logits = backend.addBias(z, b2);
  const { loss, dLogits } = backend.softmaxCrossEntropy(logits, labels);

  const dw2 = backend.matMul(h, dLogits, { transposeA: true });
  const db2 = backend.sumRows(dLogits);
  const dh = backend.matMul(dLogits, w2, { transposeB: true });
  const dNormalized = backend.sigmoidBackward(dh, h);
  const du = bn.backward(dNormalized);
  const dw1 = backend.matMul(x, du, { transposeA: true });
  w1 = backend.sgdUpdate(w1, dw1, { learningRate: LEARNING_RATE });
  w2 = backend.sgdUpdate(w2, dw2, { learningRate: LEARNING_RATE });
  b2 = backend.sgdUpdate(b2, db2, { learningRate: LEARNING_RATE });
  bn.sgdStep(LEARNING_RATE);

  for (const t of [u, normalized, h, z, logits, dLogits, dw2, db2, dh, dNormalized, du, dw1, x, labels]) {
    backend.dispose(t);
  }
  bn.dispose();
  return { loss, w1, w2, b2 };
}


import { BatchNorm, hasSyncReads, type Backend, type TensorHandle } from '@batchnorm/core';
import type { MnistVariant } from '../results.js';
import { MNIST_BATCH, MNIST_LAYER_SIZES, hasBatchNorm, type MnistProblem, type PreparedStep } from './problem.js';

/**
 * One SGD step of the paper's network through core's contract: matMul, addBias, sigmoid, the
 * `BatchNorm` layer after each hidden `W·u` (bias dropped), softmaxCrossEntropy, the backward
 * kernels and sgdUpdate. The loss is read back inside the step, as a training loop would: with
 * `readSync` where the backend declares it, else awaiting `read` (the step is then async).
 */
export function prepareContractStep<T extends TensorHandle>(
  b: Backend<T>,
  variant: MnistVariant,
  problem: MnistProblem,
): PreparedStep {
  const withBn = hasBatchNorm(variant);
  const sizes = MNIST_LAYER_SIZES;
  const lr = { learningRate: problem.learningRate };
  const images = b.upload(problem.images, [MNIST_BATCH, sizes[0]]);
  const labels = b.upload(problem.labels, [MNIST_BATCH, 10]);
  const weights = problem.weights.map((w, l) => b.upload(w, [sizes[l]!, sizes[l + 1]!]));
  const biases = problem.biases.map((bias) => b.upload(bias, [bias.length]));
  // checkFinite would read the statistics back every step; the loss is read instead.
  const norms = withBn
    ? [0, 1, 2].map(() => new BatchNorm(b, { numFeatures: 100, epsilon: problem.epsilon, checkFinite: false }))
    : [];

  const syncReads = hasSyncReads(b);
  const step = (): number | Promise<number> => {
    const temps: T[] = [];
    const keep = (t: T): T => {
      temps.push(t);
      return t;
    };
    const layerInputs: T[] = [images];
    const hidden: T[] = [];
    for (let l = 0; l < 3; l++) {
      const z = keep(b.matMul(layerInputs[l]!, weights[l]!));
      const u = withBn ? keep(norms[l]!.forward(z)) : keep(b.addBias(z, biases[l]!));
      const h = keep(b.sigmoid(u));
      hidden.push(h);
      layerInputs.push(h);
    }
    const logits = keep(b.addBias(keep(b.matMul(hidden[2]!, weights[3]!)), biases[3]!));
    const { loss, dLogits } = b.softmaxCrossEntropy(logits, labels);
    keep(loss);
    keep(dLogits);
    const weightGrads: T[] = [];
    const biasGrads: (T | undefined)[] = [];
    weightGrads[3] = keep(b.matMul(hidden[2]!, dLogits, { transposeA: true }));
    biasGrads[3] = keep(b.sumRows(dLogits));
    let dHidden = keep(b.matMul(dLogits, weights[3]!, { transposeB: true }));
    for (let l = 2; l >= 0; l--) {
      const du = keep(b.sigmoidBackward(dHidden, hidden[l]!));
      const dz = withBn ? keep(norms[l]!.backward(du)) : du;
      weightGrads[l] = keep(b.matMul(layerInputs[l]!, dz, { transposeA: true }));
      biasGrads[l] = withBn ? undefined : keep(b.sumRows(dz));
      if (l > 0) dHidden = keep(b.matMul(dz, weights[l]!, { transposeB: true }));
    }
    for (let l = 0; l < 4; l++) {
      weights[l] = b.sgdUpdate(weights[l]!, weightGrads[l]!, lr);
      const grad = biasGrads[l];
      if (grad !== undefined) biases[l] = b.sgdUpdate(biases[l]!, grad, lr);
    }
    norms.forEach((norm) => norm.sgdStep(problem.learningRate));
    if (syncReads) {
      const lossValue = b.readSync(loss)[0]!;
      temps.forEach((t) => b.dispose(t));
      return lossValue;
    }
    const lossValues = b.read(loss); // holds the values as of now: `loss` may go at once
    temps.forEach((t) => b.dispose(t));
    return lossValues.then((values) => values[0]!);
  };

  return {
    isAsync: !syncReads,
    run: step,
    parameters: async () => ({ first: await b.read(weights[0]!), last: await b.read(weights[3]!) }),
    dispose() {
      norms.forEach((norm) => norm.dispose());
      [images, labels, ...weights, ...biases].forEach((t) => b.dispose(t));
    },
  };
}

import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../tfjs.js';
import type { MnistVariant } from '../results.js';
import { MNIST_BATCH, MNIST_LAYER_SIZES, hasBatchNorm, type MnistProblem, type PreparedStep } from './problem.js';

/**
 * The same network as a TensorFlow.js user writes it: `tf.sequential`, dense (+
 * batchNormalization) layers, sgd, `model.trainOnBatch`. Starts from the same weights as our
 * step, so its first loss and update can be checked against the reference.
 */
export function prepareTfjsLayersStep(variant: MnistVariant, problem: MnistProblem): PreparedStep {
  const withBn = hasBatchNorm(variant);
  const sizes = MNIST_LAYER_SIZES;
  const model = tfl.sequential();
  for (let l = 0; l < 3; l++) {
    model.add(
      tfl.layers.dense({
        units: sizes[l + 1]!,
        ...(l === 0 ? { inputShape: [sizes[0]] } : {}),
        useBias: !withBn,
        activation: withBn ? 'linear' : 'sigmoid',
      }),
    );
    if (withBn) {
      // Keras' momentum is the weight of the old value: 0.9 is our 0.1.
      model.add(tfl.layers.batchNormalization({ epsilon: problem.epsilon, momentum: 0.9 }));
      model.add(tfl.layers.activation({ activation: 'sigmoid' }));
    }
  }
  model.add(tfl.layers.dense({ units: sizes[4], activation: 'softmax' }));
  model.compile({ optimizer: tf.train.sgd(problem.learningRate), loss: 'categoricalCrossentropy' });

  // Layer by layer: a layer's own `weights` order is what its `setWeights` takes (the model's
  // order puts every non-trainable weight last).
  const denseKernels: tfl.LayerVariable[] = [];
  let dense = 0;
  for (const layer of model.layers) {
    const values = layer.weights.map((weight) => {
      const name = weight.originalName;
      // BN vectors are [100]; the layer shape type allows null (unknown) dimensions.
      const shape = weight.shape.map((d) => d ?? 1);
      if (name.endsWith('kernel')) {
        denseKernels.push(weight);
        return tf.tensor2d(problem.weights[dense]!, [sizes[dense]!, sizes[dense + 1]!]);
      }
      if (name.endsWith('bias')) return tf.tensor1d(problem.biases[dense]!);
      return name.endsWith('gamma') || name.endsWith('moving_variance') ? tf.ones(shape) : tf.zeros(shape);
    });
    if (values.length > 0) layer.setWeights(values);
    tf.dispose(values);
    if (layer.getClassName() === 'Dense') dense++;
  }

  const images = tf.tensor2d(problem.images, [MNIST_BATCH, sizes[0]]);
  const labels = tf.tensor2d(problem.labels, [MNIST_BATCH, 10]);
  return {
    isAsync: true,
    async run() {
      const loss = await model.trainOnBatch(images, labels);
      return Array.isArray(loss) ? loss[0]! : loss;
    },
    parameters: async () => ({
      first: await denseKernels[0]!.read().data(),
      last: await denseKernels[denseKernels.length - 1]!.read().data(),
    }),
    dispose() {
      model.dispose();
      tf.dispose([images, labels]);
    },
  };
}

import { createRandom } from '@batchnorm/core';
import type { MnistVariant } from '../results.js';

/** The paper's network (§4.1): 784-100-100-100-10, sigmoid, softmax cross-entropy, batch 60. */
export const MNIST_LAYER_SIZES = [784, 100, 100, 100, 10] as const;
export const MNIST_BATCH = 60;
export const MNIST_VARIANTS: readonly MnistVariant[] = ['bn', 'plain'];

/**
 * Everything one training step needs, seeded. The images are uniform noise in [0, 1) with random
 * labels: a step's cost does not depend on the pixels, and no data set has to be downloaded.
 */
export interface MnistProblem {
  readonly images: Float32Array;
  readonly labels: Float32Array;
  /** `W_l` stored `[in, out]`, Glorot-uniform. */
  readonly weights: readonly Float32Array[];
  /** `b_l`, zeros. With BN, the hidden layers' biases are dropped (β takes their place). */
  readonly biases: readonly Float32Array[];
  readonly learningRate: number;
  readonly epsilon: number;
}

export function makeMnistProblem(seed = 11): MnistProblem {
  const random = createRandom(seed);
  const sizes = MNIST_LAYER_SIZES;
  const labels = new Float32Array(MNIST_BATCH * 10);
  for (let n = 0; n < MNIST_BATCH; n++) labels[n * 10 + Math.floor(random.uniform() * 10)] = 1;
  const weights = sizes.slice(1).map((out, l) => {
    const fanIn = sizes[l]!;
    const limit = Math.sqrt(6 / (fanIn + out));
    return Float32Array.from({ length: fanIn * out }, () => (2 * random.uniform() - 1) * limit);
  });
  return {
    images: Float32Array.from({ length: MNIST_BATCH * sizes[0] }, () => random.uniform()),
    labels,
    weights,
    biases: sizes.slice(1).map((out) => new Float32Array(out)),
    learningRate: 0.5,
    epsilon: 1e-5,
  };
}

/** A step ready to run repeatedly: each `run` trains one step and returns its loss. */
export interface PreparedStep {
  /** Whether `run` returns a promise (TensorFlow.js layers' `trainOnBatch`). */
  readonly isAsync: boolean;
  run(): number | Promise<number>;
  /** The first and last weight matrices as they are now (for the correctness gate). */
  parameters(): Promise<{ readonly first: ArrayLike<number>; readonly last: ArrayLike<number> }>;
  dispose(): void;
}

export function hasBatchNorm(variant: MnistVariant): boolean {
  return variant === 'bn';
}

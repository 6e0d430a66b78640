import type { Shape, SyncBackend, TensorHandle } from '@batchnorm/core';

// The package's public types. They name TensorFlow's tensors through `TensorFlowTensor`, an
// outline of our own, so that users' builds (skipLibCheck off included) do not load
// @tensorflow/tfjs-node's declarations; inside the package the same types carry tfjs's `Tensor`.

/**
 * A TensorFlow.js tensor, as far as this package's types name it: tfjs-node's `Tensor` is one.
 * To hand it to tfjs ops, cast it: `handle.tensor as tf.Tensor`.
 */
export interface TensorFlowTensor {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: string;
  readonly size: number;
  readonly rank: number;
  readonly isDisposed: boolean;
  dispose(): void;
}

/** A handle of the tfjs-node backend: a TensorFlow tensor, kept on the TensorFlow side. */
export interface TfjsNodeTensor<T extends TensorFlowTensor = TensorFlowTensor> extends TensorHandle {
  readonly shape: Shape;
  readonly tensor: T;
}

/**
 * What the training forward keeps for backward: TensorFlow tensors of its own, kept alive
 * independently of the `y`, `mean` and `variance` handles it returned (the caller may dispose
 * those), read by any number of backward calls, released by `disposeSaved`.
 *
 * - `fused`: `FusedBatchNormV3`'s three reserve spaces, handed back as they are to
 *   `FusedBatchNormGradV3`. On CPU, `reserveSpace1` is the batch mean, `reserveSpace2` the
 *   biased batch variance (÷m) and `reserveSpace3` empty; on a GPU build they mean something
 *   else, which is why nothing but the gradient op reads them.
 * - `composed`: the batch mean and biased variance of the channels-first route, `[C]` each.
 */
export type TfjsSaved<T extends TensorFlowTensor = TensorFlowTensor> =
  | {
      readonly route: 'fused';
      readonly reserveSpace1: T;
      readonly reserveSpace2: T;
      readonly reserveSpace3: T;
    }
  | {
      readonly route: 'composed';
      readonly mean: T;
      readonly variance: T;
    };

/**
 * The tfjs-node backend's type: it declares `readSync` (TensorFlow reads synchronously), so a
 * layer's `stateSync()`/`foldSync()` compile against it; `saved` is `TfjsSaved`.
 */
export type TfjsNodeBackend = SyncBackend<TfjsNodeTensor, TfjsSaved>;

declare const noOptions: unique symbol;

/**
 * `createBackend` takes no options (tfjs-node has no modes; TensorFlow reads its settings from the
 * environment, see the README). The type has no key a user can write, so `createBackend({ mode:
 * 'cpu' })` is a type error, as it is a `BatchNormError` at run time.
 */
export interface TfjsNodeBackendOptions {
  readonly [noOptions]?: never;
}

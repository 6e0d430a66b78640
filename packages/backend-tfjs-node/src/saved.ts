import { BatchNormError } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import type { Route } from './route.js';

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
export type TfjsSaved =
  | {
      readonly route: 'fused';
      readonly reserveSpace1: Tensor;
      readonly reserveSpace2: Tensor;
      readonly reserveSpace3: Tensor;
    }
  | {
      readonly route: 'composed';
      readonly mean: Tensor;
      readonly variance: Tensor;
    };

function tensorsOf(saved: TfjsSaved): Tensor[] {
  return saved.route === 'fused'
    ? [saved.reserveSpace1, saved.reserveSpace2, saved.reserveSpace3]
    : [saved.mean, saved.variance];
}

/**
 * `saved`, checked: made by the route backward takes for this geometry (so branching on
 * `saved.route` is branching on the geometry), and not yet released.
 * @throws BatchNormError `INVALID_ARGUMENT` for a `saved` of another route (a forward in another
 * layout), `INVALID_STATE` for a released one.
 */
export function checkedSaved(saved: TfjsSaved, route: Route): TfjsSaved {
  if (saved.route !== route) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'saved',
      expected: `the saved value of a ${route} forward on a tensor of this layout and shape`,
      received: `the saved value of a ${saved.route} forward`,
    });
  }
  if (tensorsOf(saved).some((t) => t.isDisposed)) {
    throw new BatchNormError({
      code: 'INVALID_STATE',
      argument: 'saved',
      expected: 'the saved value of a training forward that has not been disposed',
      received: 'a saved value released by disposeSaved',
    });
  }
  return saved;
}

/** Releases the saved tensors; twice is allowed (tfjs ignores disposing a disposed tensor). */
export function disposeSaved(saved: TfjsSaved): void {
  for (const t of tensorsOf(saved)) t.dispose();
}

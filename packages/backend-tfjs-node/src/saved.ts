import { BatchNormError } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import type { Route } from './route.js';
import type * as Public from './types.js';

/** `saved` as the package sees it inside: tfjs-node's own tensors (see `TfjsSaved` in types.ts). */
export type TfjsSaved = Public.TfjsSaved<Tensor>;

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

/**
 * Hot loops over a row range `[r0, r1)` of a tensor viewed as `[outer, C, inner]`: channels
 * first `[N, C, ...spatial]` as `[N, C, spatial]` (`NC`: `[N, C, 1]`, `NCHW`: `[N, C, H·W]`),
 * channels last `[N, ...spatial, C]` as `[N·spatial, C, 1]` (`NHWC`: `[N·H·W, C, 1]`).
 *
 * Each loop is self-contained (no imports, no module-level references): worker threads are
 * built from their source text, so the very same code runs on every thread. Their parameters
 * are declared once, in `signatures.ts`.
 */
import { affine } from './affine.js';
import { backwardApply } from './backwardApply.js';
import { backwardSums } from './backwardSums.js';
import { matMulDots } from './matMulDots.js';
import { matMulPanels } from './matMulPanels.js';
import { shiftedSums } from './shiftedSums.js';
import { sgdUpdate } from './sgdUpdate.js';
import { sigmoid } from './sigmoid.js';
import type { LoopArgs, LoopName } from './signatures.js';

export const LOOPS = {
  shiftedSums,
  affine,
  backwardSums,
  backwardApply,
  matMulPanels,
  matMulDots,
  sigmoid,
  sgdUpdate,
} as const satisfies { readonly [K in LoopName]: (...args: LoopArgs<K>) => void };

export { LOOP_PARAMETERS, ROW_ARGUMENT, type LoopArgs, type LoopName } from './signatures.js';

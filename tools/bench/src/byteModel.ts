import { geometryOf, type Layout, type Shape } from '@batchnorm/core';

/** The timed operations of the kernel benchmark. `copy` is the memory baseline. */
export type KernelOp = 'forwardTraining' | 'forwardInference' | 'backward';
export type MeasuredOp = KernelOp | 'copy';

export const KERNEL_OPS: readonly KernelOp[] = ['forwardTraining', 'forwardInference', 'backward'];

const FLOAT32_BYTES = 4;

/**
 * The byte model, in one place: the bytes an operation cannot avoid moving between memory and
 * the cores, for float32 tensors of `size` elements and `c` features. Large tensors do not fit
 * in cache, so every pass over a tensor costs its full size.
 *
 * - copy: read x, write the copy — 2 tensor passes.
 * - forwardTraining: read x for the statistics, read x again to normalize, write y — 3 passes;
 *   plus γ, β read and mean, variance written (4 vectors of C).
 * - forwardInference: read x, write y — 2 passes; plus γ, β, mean, variance read (4 vectors).
 * - backward: read x and dy for the sums Σdy and Σdy·x̂, read them again for dx, write dx —
 *   5 passes; plus γ, mean, variance read and dγ, dβ written (5 vectors).
 *
 * So the floor relative to the copy is 1.5× (training), 1× (inference), 2.5× (backward).
 */
export function bytesMoved(op: MeasuredOp, layout: Layout, shape: Shape): number {
  const { size, c } = geometryOf(layout, shape);
  const passes = { copy: 2, forwardTraining: 3, forwardInference: 2, backward: 5 }[op];
  const vectors = { copy: 0, forwardTraining: 4, forwardInference: 4, backward: 5 }[op];
  return FLOAT32_BYTES * (passes * size + vectors * c);
}

/** Bytes per second in GB/s (10⁹ bytes) for `bytes` moved in `milliseconds`. */
export function gigabytesPerSecond(bytes: number, milliseconds: number): number {
  return bytes / (milliseconds * 1e6);
}

/**
 * The floor of `op`: the time its byte model takes at the bandwidth the copy of the same tensor
 * reached in the same run (`copyMs` for the copy's bytes). `medianMs / floorMs` is how far a
 * kernel is from moving only what it must at memory speed.
 */
export function floorMs(op: MeasuredOp, layout: Layout, shape: Shape, copyMs: number): number {
  return (copyMs * bytesMoved(op, layout, shape)) / bytesMoved('copy', layout, shape);
}

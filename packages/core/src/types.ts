/**
 * Memory layouts of a batch-normalized tensor.
 * - `NC`: `[N, C]`, one feature per activation (paper §3.1).
 * - `NCHW`, `NHWC`: one feature per map; a feature's mini-batch is all `m = N·H·W` values of
 *   that map (paper §3.2).
 */
export type Layout = 'NC' | 'NCHW' | 'NHWC';

export const LAYOUTS: readonly Layout[] = ['NC', 'NCHW', 'NHWC'];

/** A tensor's dimensions, in the layout's own order (`NHWC` is `[N, H, W, C]`). */
export type Shape = readonly number[];

/** Host data accepted by `upload` and returned by `read`. */
export type TensorData = Float32Array | Float64Array;

/** How the running variance is fed from the biased batch variance `σ²_B`. */
export type VarianceCorrection = 'unbiased' | 'biased';

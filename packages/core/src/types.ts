/**
 * Memory layouts of a batch-normalized tensor, named by their axes: `N` samples, `C` features
 * and 0 to 3 spatial axes (`L`; `H, W`; `D, H, W`).
 * - `NC`: `[N, C]`, one feature per activation (paper §3.1; PyTorch's `BatchNorm1d`).
 * - channels-first `NCL`, `NCHW`, `NCDHW` (PyTorch's and ONNX's order) and channels-last `NLC`,
 *   `NHWC`, `NDHWC`: one feature per map; a feature's mini-batch is all
 *   `m = N·∏spatial` values of that map (paper §3.2).
 */
export type Layout = 'NC' | 'NCL' | 'NLC' | 'NCHW' | 'NHWC' | 'NCDHW' | 'NDHWC';

export const LAYOUTS: readonly Layout[] = ['NC', 'NCL', 'NLC', 'NCHW', 'NHWC', 'NCDHW', 'NDHWC'];

/** A tensor's dimensions, in the layout's own order (`NHWC` is `[N, H, W, C]`). */
export type Shape = readonly number[];

/** Host data accepted by `upload` and returned by `read`. */
export type TensorData = Float32Array | Float64Array;

/** How the running variance is fed from the biased batch variance `σ²_B`. */
export type VarianceCorrection = 'unbiased' | 'biased';

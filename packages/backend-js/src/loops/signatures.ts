/**
 * Each loop's parameters, in order: the one table that the loops' argument types (`LoopArgs`),
 * the thread team's row range (where `r0, r1` sit) and the WebAssembly twins' `(param …)` lists
 * (expanded by scripts/compile-wasm.mjs) come from. A suffix gives an array's element type:
 * `:f32` a Float32Array, `:f64` a Float64Array, `:f32|f64` either; no suffix, a number. A twin
 * takes every parameter as an i32 (arrays as byte offsets into its memory).
 *
 * No imports: the compile script reads this file on its own.
 */
export const LOOP_PARAMETERS = {
  shiftedSums: ['x:f32', 'channels', 'inner', 'r0', 'r1', 'shift:f64', 'sum:f64', 'sumSq:f64'],
  affine: ['x:f32', 'y:f32', 'channels', 'inner', 'r0', 'r1', 'scale:f64', 'offset:f64'],
  backwardSums: ['dy:f32', 'x:f32', 'channels', 'inner', 'r0', 'r1', 'mean:f64', 'sumDy:f64', 'sumDyCentered:f64'],
  backwardApply: ['dy:f32', 'x:f32', 'dx:f32', 'channels', 'inner', 'r0', 'r1', 'a:f64', 'b:f64', 'd:f64'],
  matMulPanels: ['a:f32|f64', 'b:f32|f64', 'c:f32', 'rows', 'depth', 'cols', 'mode', 'list:f64', 'r0', 'r1'],
  matMulDots: ['a:f32', 'b:f32', 'c:f32', 'depth', 'cols', 'r0', 'r1'],
  sigmoid: ['x:f32', 'y:f32', 'r0', 'r1'],
  sgdUpdate: ['param:f32', 'grad:f32', 'rate:f64', 'r0', 'r1'],
} as const;

export type LoopName = keyof typeof LOOP_PARAMETERS;

type ArgType<P> = P extends `${string}:f32|f64`
  ? Float32Array | Float64Array
  : P extends `${string}:f32`
    ? Float32Array
    : P extends `${string}:f64`
      ? Float64Array
      : number;

type ArgsOf<T extends readonly string[]> = { -readonly [I in keyof T]: ArgType<T[I]> };

/** The arguments of loop `K`, as its JavaScript function takes them. */
export type LoopArgs<K extends LoopName> = ArgsOf<(typeof LOOP_PARAMETERS)[K]>;

/** Where each loop takes its row range `r0, r1` (r1 follows r0). */
export const ROW_ARGUMENT = Object.fromEntries(
  Object.entries(LOOP_PARAMETERS).map(([name, params]) => [name, (params as readonly string[]).indexOf('r0')]),
) as Readonly<Record<LoopName, number>>;

import type { Shader } from '../dispatch.js';
import { shaderSource, type StorageBuffer } from '../wgsl.js';

/**
 * The parameters of the per-feature kernels and a cursor over feature `c`'s values. A batch-norm
 * tensor is `[outer, C, inner]` in memory: channels-first layouts have `inner = ∏spatial` (and
 * `outer = N`), channels-last layouts `inner = 1` (and `outer = N·∏spatial`); feature `c`'s value
 * `t` (0 ≤ t < m) is `(o, c, i)` with `o = ⌊t/inner⌋`, `i = t mod inner`. An invocation divides
 * once, at its first value, then steps by the workgroup size with `stepRows = ⌊WG/inner⌋`,
 * `stepRest = WG mod inner` and a carry: integer division is slow on GPUs (and scalarized on
 * llvmpipe), and it would run per element.
 */
const CHANNEL_PARAMS = /* wgsl */ `
struct Params {
  channels: u32,
  inner: u32,
  m: u32,
  chunk: u32,
  parts: u32,
  stepRows: u32,
  stepRest: u32,
  epsilon: f32,
}

struct Cursor {
  o: u32,
  i: u32,
}

fn cursorAt(t: u32) -> Cursor {
  let o = t / p.inner;
  return Cursor(o, t - o * p.inner);
}

fn advance(k: Cursor) -> Cursor {
  var next = Cursor(k.o + p.stepRows, k.i + p.stepRest);
  if (next.i >= p.inner) {
    next.i -= p.inner;
    next.o += 1u;
  }
  return next;
}

fn indexOf(c: u32, k: Cursor) -> u32 {
  return (k.o * p.channels + c) * p.inner + k.i;
}
`;

/** Workgroup `wid` takes chunk `j` of feature `c`: values `start ≤ t < end`. */
const CHUNK = /* wgsl */ `  if (wid >= p.channels * p.parts) {
    return;
  }
  let c = wid / p.parts;
  let j = wid % p.parts;
  let start = j * p.chunk;
  let end = min(start + p.chunk, p.m);`;

/** The invocation's values of the chunk, a workgroup's width apart: `statements` with index `i`. */
function chunkLoop(workgroupSize: number, statements: string): string {
  return /* wgsl */ `  var k = cursorAt(start + li);
  for (var t = start + li; t < end; t += ${workgroupSize}u) {
    let i = indexOf(c, k);
    ${statements}
    k = advance(k);
  }`;
}

/** What a per-feature shader adds to the chunk's loop (see `channelSums`, `channelSweep`). */
export interface ChannelSpec {
  readonly label: string;
  /** Bound after the `Params` uniform, in this order. */
  readonly storage: readonly StorageBuffer[];
  readonly helpers?: string;
  /** Statements before the loop, with `c`, `j` and (in a sweep that merges) `sums` in scope. */
  readonly setup: string;
  /** The loop's statements for the value at index `i`. */
  readonly each: string;
}

/**
 * The first pass of a two-pass kernel: `each` adds value `i`'s terms into `var acc: vec2f`, and
 * the workgroup's sum of them goes to `partials[wid]` (a storage buffer the spec declares).
 */
export function channelSums(spec: ChannelSpec): Shader {
  return shaderSource({
    ...spec,
    params: CHANNEL_PARAMS,
    sums: 'vec2f',
    grid: true,
    body: (workgroupSize, sum) => `${CHUNK}
  ${spec.setup}
  var acc = vec2f(0.0);
${chunkLoop(workgroupSize, spec.each)}
  let total = ${sum('acc')};
  if (li == 0u) {
    partials[wid] = total;
  }`,
  });
}

/**
 * A sweep over each workgroup's chunk. With `merge`, the second pass of a two-pass kernel: each
 * workgroup first adds its feature's `partials` into `sums` (every workgroup of the feature in
 * the same order, so they agree to the bit).
 */
export function channelSweep(spec: ChannelSpec & { readonly merge: boolean }): Shader {
  const merge = (workgroupSize: number, sum: (value: string) => string): string => `
  var acc = vec2f(0.0);
  for (var q = li; q < p.parts; q += ${workgroupSize}u) {
    acc += partials[c * p.parts + q];
  }
  let sums = ${sum('acc')};`;
  return shaderSource({
    ...spec,
    params: CHANNEL_PARAMS,
    ...(spec.merge ? { sums: 'vec2f' as const } : {}),
    grid: true,
    body: (workgroupSize, sum) => `${CHUNK}${spec.merge ? merge(workgroupSize, sum) : ''}
  ${spec.setup}
${chunkLoop(workgroupSize, spec.each)}`,
  });
}

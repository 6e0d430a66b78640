import type { Geometry, Shape } from '@batchnorm/core';
import { releaseWhenCollected, type BufferPool } from './pool.js';
import { JsTensor } from './tensor.js';
import { runLoop, type ThreadTeam } from './threads.js';
import type { LoopArgs, LoopName } from './loops/index.js';
import { inHeap, isSimdLoop, type SimdRuntime } from './wasm/simd.js';

/** What every kernel of the js backend works with: the buffer pool, the thread team, the SIMD loops. */
export class KernelContext {
  readonly pool: BufferPool;
  readonly team: ThreadTeam;
  /** Tensors with at least this many elements are split across the team. */
  readonly parallelMinElements: number;
  /** The WebAssembly SIMD loops, when enabled; the pool then allocates from their heap. */
  readonly simd: SimdRuntime | undefined;
  #arena: Float64Array[] = [];
  #next = 0;

  constructor(pool: BufferPool, team: ThreadTeam, parallelMinElements: number, simd?: SimdRuntime) {
    this.pool = pool;
    this.team = team;
    this.parallelMinElements = parallelMinElements;
    this.simd = simd;
    if (simd !== undefined) releaseWhenCollected(this, simd.heap, arenaOf(this.#arena));
  }

  /** Wraps a pooled buffer as a tensor the pool keeps track of. */
  tensor(data: Float32Array, shape: Shape, float64Copy?: Float64Array): JsTensor {
    const t = new JsTensor(data, shape, float64Copy);
    this.pool.adopt(t, data);
    return t;
  }

  /** Hands a tensor's buffer back to the pool (no-op when already disposed). */
  dispose(t: JsTensor): void {
    const data = JsTensor.detach(t);
    if (data === undefined) return;
    this.pool.forget(t);
    this.pool.give(data);
  }

  /** A new tensor over a pooled buffer; its contents are whatever the buffer held before. */
  output(shape: Shape, size: number, float64Copy?: Float64Array): JsTensor {
    return this.tensor(this.pool.take(size), shape, float64Copy);
  }

  /** A per-feature tensor holding `values` rounded to float32, with the float64 values beside. */
  vectorTensor(values: Float64Array, shape: Shape = [values.length]): JsTensor {
    const data = this.pool.take(values.length);
    data.set(values);
    return this.tensor(data, shape, values);
  }

  /**
   * A zeroed float64 vector the team's threads can share, for per-channel constants and sums
   * inside one kernel call. Vectors come from an arena reset by `beginKernel`, so steady-state
   * calls allocate nothing; a kernel never returns them.
   */
  vector(length: number): Float64Array {
    let v = this.#arena[this.#next];
    if (v === undefined || v.length < length) {
      if (v !== undefined) this.#releaseVector(v);
      const start = this.simd?.heap.allocate(length * 8);
      // Heap blocks are recycled, so unlike a new array they need zeroing.
      if (start !== undefined) v = this.simd!.heap.float64(start, length).fill(0);
      else v = this.pool.shared ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length);
      this.#arena[this.#next] = v;
    } else {
      v.fill(0, 0, length);
    }
    this.#next++;
    return v.length === length ? v : v.subarray(0, length);
  }

  /** Starts a kernel call: its scratch vectors may reuse those of the previous call. */
  beginKernel(): this {
    this.#next = 0;
    return this;
  }

  /** Returns the scratch vectors to the heap (the backend is being destroyed). */
  destroy(): void {
    for (const v of this.#arena) this.#releaseVector(v);
    this.#arena.length = 0;
    this.#next = 0;
  }

  #releaseVector(v: Float64Array): void {
    if (this.simd?.heap.owns(v)) this.simd.heap.release(v.byteOffset);
  }

  /** The SIMD runtime if `loop` has a SIMD twin and every array it gets lies in the heap. */
  simdFor(loop: LoopName, args: readonly unknown[]): SimdRuntime | undefined {
    const simd = this.simd;
    return simd !== undefined && isSimdLoop(loop) && inHeap(simd.heap, args) ? simd : undefined;
  }

  /**
   * Runs a loop over rows `[0, rows)` split across the team (its SIMD twin when it can). `part`
   * is the thread that runs the rows (0: this one), for a loop that needs scratch of its own.
   */
  split<K extends LoopName>(loop: K, rows: number, argsFor: (r0: number, r1: number, part: number) => LoopArgs<K>): void {
    this.team.run(loop, rows, (part, r0, r1) => argsFor(r0, r1, part), this.simdFor(loop, argsFor(0, rows, 0)));
  }

  /** Runs a loop on the calling thread (its SIMD twin when it can). */
  run<K extends LoopName>(loop: K, args: LoopArgs<K>): void {
    runLoop(loop, args, this.simdFor(loop, args));
  }

  /** Whether a tensor of `size` elements is worth splitting across threads. */
  parallel(size: number): boolean {
    return this.team.size > 1 && size >= this.parallelMinElements;
  }
}

// Not a method: the closure must not hold the context itself.
function arenaOf(arena: Float64Array[]): () => Iterable<Float64Array> {
  return () => arena;
}

/**
 * A batch-norm tensor viewed as `[outer, C, inner]`: the loops walk `outer` rows, each holding
 * every channel, with `inner` contiguous values per channel. Channels-first `[N, C, ...spatial]`
 * is `[N, C, spatial]` (`NC`: spatial 1); channels-last `[N, ...spatial, C]` is
 * `[N·spatial, C, 1]`. The rank never matters, only the order.
 */
export interface RowView {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  readonly m: number;
  readonly size: number;
}

export function rowView(g: Pick<Geometry, 'channelsLast' | 'n' | 'c' | 'spatial' | 'm' | 'size'>): RowView {
  return g.channelsLast
    ? { outer: g.n * g.spatial, channels: g.c, inner: 1, m: g.m, size: g.size }
    : { outer: g.n, channels: g.c, inner: g.spatial, m: g.m, size: g.size };
}

/**
 * Runs a per-channel reduction loop over all rows, split across the team when the tensor is
 * large; each part accumulates into its own pair of vectors, summed here at the end.
 */
export function reduceRows<K extends 'shiftedSums' | 'backwardSums'>(
  ctx: KernelContext,
  loop: K,
  v: RowView,
  argsFor: (r0: number, r1: number, first: Float64Array, second: Float64Array) => LoopArgs<K>,
): [Float64Array, Float64Array] {
  const parts: [Float64Array, Float64Array][] = [];
  const accumulators = (p: number): [Float64Array, Float64Array] =>
    (parts[p] ??= [ctx.vector(v.channels), ctx.vector(v.channels)]);
  const simd = ctx.simdFor(loop, argsFor(0, v.outer, ...accumulators(0)));
  if (ctx.parallel(v.size)) {
    ctx.team.run(loop, v.outer, (p, r0, r1) => argsFor(r0, r1, ...accumulators(p)), simd);
  } else {
    runLoop(loop, argsFor(0, v.outer, ...accumulators(0)), simd);
  }
  const [first, second] = accumulators(0);
  for (let p = 1; p < parts.length; p++) {
    const [a, b] = parts[p]!;
    for (let c = 0; c < v.channels; c++) {
      first[c] += a[c]!;
      second[c] += b[c]!;
    }
  }
  return [first, second];
}

/**
 * Runs an elementwise loop over all `v.outer` rows (`v.size` values), split across the team when
 * the tensor is large. A flat tensor is `{ outer: size, size }`.
 */
export function mapRows<K extends 'affine' | 'backwardApply' | 'sigmoid' | 'sgdUpdate'>(
  ctx: KernelContext,
  loop: K,
  v: Pick<RowView, 'outer' | 'size'>,
  argsFor: (r0: number, r1: number) => LoopArgs<K>,
): void {
  if (ctx.parallel(v.size)) ctx.split(loop, v.outer, argsFor);
  else ctx.run(loop, argsFor(0, v.outer));
}

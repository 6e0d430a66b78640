import type { WasmHeap } from './wasm/heap.js';

// Heap blocks are released when their holder is collected undisposed: a tensor, or a whole pool
// or kernel context (a backend dropped without `destroy()`). Module-level, so it outlives them
// all; the held values never refer to the holders.
const collected = new FinalizationRegistry<{ heap: WasmHeap; blocks: () => Iterable<ArrayBufferView> }>(
  ({ heap, blocks }) => {
    for (const view of blocks()) if (heap.owns(view)) heap.release(view.byteOffset);
  },
);

/** Releases `blocks()` to `heap` once `owner` is collected (unless `forgetOwner(owner)` came first). */
export function releaseWhenCollected(owner: object, heap: WasmHeap, blocks: () => Iterable<ArrayBufferView>): void {
  collected.register(owner, { heap, blocks }, owner);
}

export function forgetOwner(owner: object): void {
  collected.unregister(owner);
}

function pooledBuffers(free: Map<number, Float32Array[]>): () => Iterable<Float32Array> {
  return () => [...free.values()].flat();
}

/**
 * Recycles Float32Array buffers by length. Writing fresh memory is far slower than writing
 * memory already touched (the page faults dominate), so every kernel output comes from here and
 * `dispose` returns it. With a heap, buffers live in WebAssembly memory (where the SIMD loops
 * reach them); a buffer the heap cannot hold comes from an ordinary array buffer instead.
 */
export class BufferPool {
  readonly shared: boolean;
  readonly maxBytes: number;
  readonly heap: WasmHeap | undefined;
  #free = new Map<number, Float32Array[]>();
  #pooledBytes = 0;

  /**
   * @param shared allocate over SharedArrayBuffer, so worker threads can work on the buffers.
   * @param maxBytes pooled bytes kept at most; beyond that, returned buffers are released.
   * @param heap WebAssembly memory to allocate from first.
   */
  constructor(shared: boolean, maxBytes: number, heap?: WasmHeap) {
    this.shared = shared;
    this.maxBytes = maxBytes;
    this.heap = heap;
    if (heap !== undefined) {
      releaseWhenCollected(this, heap, pooledBuffers(this.#free));
    }
  }

  take(length: number): Float32Array {
    const list = this.#free.get(length);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.#pooledBytes -= reused.byteLength;
      return reused;
    }
    const start = this.heap?.allocate(length * 4);
    if (start !== undefined) return this.heap!.float32(start, length);
    return this.shared ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
  }

  give(buffer: Float32Array): void {
    if (this.#pooledBytes + buffer.byteLength > this.maxBytes) {
      this.#release(buffer);
      return;
    }
    let list = this.#free.get(buffer.length);
    if (list === undefined) {
      list = [];
      this.#free.set(buffer.length, list);
    }
    list.push(buffer);
    this.#pooledBytes += buffer.byteLength;
  }

  /** Ties `buffer` to `owner` (a tensor): if the owner is collected undisposed, the buffer is released. */
  adopt(owner: object, buffer: Float32Array): void {
    const heap = this.heap;
    if (heap?.owns(buffer)) releaseWhenCollected(owner, heap, () => [buffer]);
  }

  /** Undoes `adopt` once the owner hands its buffer back itself. */
  forget(owner: object): void {
    forgetOwner(owner);
  }

  /** Bytes currently held for reuse. */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** Number of buffers currently held for reuse. */
  get pooledBuffers(): number {
    let count = 0;
    for (const list of this.#free.values()) count += list.length;
    return count;
  }

  clear(): void {
    for (const list of this.#free.values()) for (const buffer of list) this.#release(buffer);
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  #release(buffer: Float32Array): void {
    // Other buffers are left to the garbage collector.
    if (this.heap?.owns(buffer)) this.heap.release(buffer.byteOffset);
  }
}

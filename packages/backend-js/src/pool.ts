/**
 * Recycles Float32Array buffers by length. Writing fresh memory is far slower than writing
 * memory already touched (the page faults dominate), so every kernel output comes from here and
 * `dispose` returns it.
 */
export class BufferPool {
  readonly shared: boolean;
  readonly maxBytes: number;
  #free = new Map<number, Float32Array[]>();
  #pooledBytes = 0;

  /**
   * @param shared allocate over SharedArrayBuffer, so worker threads can work on the buffers.
   * @param maxBytes pooled bytes kept at most; beyond that, returned buffers go to the GC.
   */
  constructor(shared: boolean, maxBytes: number) {
    this.shared = shared;
    this.maxBytes = maxBytes;
  }

  take(length: number): Float32Array {
    const list = this.#free.get(length);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.#pooledBytes -= reused.byteLength;
      return reused;
    }
    return this.shared ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
  }

  give(buffer: Float32Array): void {
    if (this.#pooledBytes + buffer.byteLength > this.maxBytes) return;
    let list = this.#free.get(buffer.length);
    if (list === undefined) {
      list = [];
      this.#free.set(buffer.length, list);
    }
    list.push(buffer);
    this.#pooledBytes += buffer.byteLength;
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
    this.#free.clear();
    this.#pooledBytes = 0;
  }
}

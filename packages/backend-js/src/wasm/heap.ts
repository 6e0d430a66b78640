import type { WasmMemory } from './api.js';

/** Bytes per WebAssembly page. */
const PAGE = 65536;
/** Block alignment: one SIMD vector, so `v128` loads of a block start never straddle it. */
const ALIGN = 16;

interface Block {
  start: number;
  size: number;
}

/**
 * Float32 and float64 arrays inside one WebAssembly memory, so the SIMD loops can address them
 * by byte offset (and, the memory being shared, so can worker threads). Blocks are 16-byte
 * aligned and come from a first-fit free list that merges neighbours on release; the memory
 * grows on demand and never shrinks. Offset 0 is never handed out.
 */
export class WasmHeap {
  readonly memory: WasmMemory;
  #top = ALIGN;
  #free: Block[] = [];
  #live = new Map<number, number>();
  #buffers = new WeakSet<ArrayBufferLike>();

  constructor(memory: WasmMemory) {
    this.memory = memory;
  }

  /** The start of a new block of at least `bytes` bytes, or `undefined` when the memory cannot grow that far. */
  allocate(bytes: number): number | undefined {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const index = this.#free.findIndex((block) => block.size >= size);
    let start: number;
    if (index >= 0) {
      const block = this.#free[index]!;
      start = block.start;
      if (block.size === size) this.#free.splice(index, 1);
      else {
        block.start += size;
        block.size -= size;
      }
    } else {
      start = this.#top;
      const end = start + size;
      const available = this.memory.buffer.byteLength;
      if (end > available) {
        try {
          this.memory.grow(Math.ceil((end - available) / PAGE));
        } catch {
          return undefined; // beyond the memory's maximum, or the engine refused the pages
        }
      }
      this.#top = end;
    }
    this.#live.set(start, size);
    return start;
  }

  /** Returns a block to the free list; `start` must come from `allocate` and not be released yet. */
  release(start: number): void {
    const size = this.#live.get(start);
    if (size === undefined) throw new Error(`WasmHeap: no live block starts at ${start}`);
    this.#live.delete(start);
    let low = 0;
    let high = this.#free.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.#free[mid]!.start < start) low = mid + 1;
      else high = mid;
    }
    this.#free.splice(low, 0, { start, size });
    // Merge with the following block, then with the preceding one.
    const block = this.#free[low]!;
    const next = this.#free[low + 1];
    if (next !== undefined && block.start + block.size === next.start) {
      block.size += next.size;
      this.#free.splice(low + 1, 1);
    }
    const previous = this.#free[low - 1];
    if (previous !== undefined && previous.start + previous.size === block.start) {
      previous.size += block.size;
      this.#free.splice(low, 1);
    }
    // A free block at the very end goes back to the untouched region.
    const last = this.#free[this.#free.length - 1];
    if (last !== undefined && last.start + last.size === this.#top) {
      this.#top = last.start;
      this.#free.pop();
    }
  }

  float32(start: number, length: number): Float32Array {
    return new Float32Array(this.#buffer(), start, length);
  }

  float64(start: number, length: number): Float64Array {
    return new Float64Array(this.#buffer(), start, length);
  }

  /** Whether `view` lies in this heap's memory (so its `byteOffset` is a pointer the loops can use). */
  owns(view: ArrayBufferView): boolean {
    return this.#buffers.has(view.buffer);
  }

  /** Bytes in live blocks. */
  get liveBytes(): number {
    let total = 0;
    for (const size of this.#live.values()) total += size;
    return total;
  }

  /** Live blocks, for tests. */
  get liveBlocks(): number {
    return this.#live.size;
  }

  /** Bytes below the high-water mark that are free (fragmentation shows here). */
  get freeBytes(): number {
    return this.#free.reduce((total, block) => total + block.size, 0);
  }

  // After a grow the memory hands out a new buffer object over the same bytes; views made from
  // an older one stay valid, so every one of them is remembered.
  #buffer(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    this.#buffers.add(buffer);
    return buffer;
  }
}

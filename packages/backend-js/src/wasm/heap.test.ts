import { describe, expect, it } from 'vitest';
import { BufferPool } from '../pool.js';
import { wasmApi } from './api.js';
import { WasmHeap } from './heap.js';

const PAGE = 65536;

function smallHeap(maximumPages: number): WasmHeap {
  return new WasmHeap(new wasmApi!.Memory({ initial: 1, maximum: maximumPages, shared: true }));
}

describe('WasmHeap', () => {
  it('hands out 16-byte aligned, disjoint blocks and never offset 0', () => {
    const heap = smallHeap(4);
    const starts = [3, 16, 17, 40, 1, 100].map((bytes) => ({ bytes, start: heap.allocate(bytes)! }));
    const sorted = [...starts].sort((a, b) => a.start - b.start);
    expect(sorted[0]!.start).toBeGreaterThan(0);
    for (const { start } of starts) expect(start % 16).toBe(0);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]!.start).toBeGreaterThanOrEqual(sorted[i - 1]!.start + sorted[i - 1]!.bytes);
    }
    expect(heap.liveBlocks).toBe(6);
  });

  it('reuses released blocks first-fit and merges neighbours', () => {
    const heap = smallHeap(4);
    const a = heap.allocate(64)!;
    const b = heap.allocate(64)!;
    const c = heap.allocate(64)!;
    heap.allocate(64); // keeps c's block away from the end
    heap.release(a);
    heap.release(c);
    expect(heap.freeBytes).toBe(128);
    heap.release(b); // a, b, c merge into one block of 192
    expect(heap.freeBytes).toBe(192);
    expect(heap.allocate(192)).toBe(a);
    expect(heap.freeBytes).toBe(0);
  });

  it('gives a block at the end back to the untouched region', () => {
    const heap = smallHeap(4);
    const a = heap.allocate(32)!;
    const b = heap.allocate(32)!;
    heap.release(b);
    heap.release(a);
    expect(heap.freeBytes).toBe(0);
    expect(heap.liveBytes).toBe(0);
    expect(heap.allocate(32)).toBe(a);
  });

  it('grows the memory on demand and returns undefined beyond its maximum', () => {
    const heap = smallHeap(3);
    const first = heap.allocate(PAGE)!;
    expect(heap.memory.buffer.byteLength).toBeGreaterThanOrEqual(first + PAGE);
    expect(heap.allocate(PAGE)).toBeDefined();
    expect(heap.allocate(2 * PAGE)).toBeUndefined();
  });

  it('views stay valid across a grow and are recognised as its own', () => {
    const heap = smallHeap(8);
    const early = heap.float32(heap.allocate(16)!, 4);
    early.set([1, 2, 3, 4]);
    const late = heap.float64(heap.allocate(3 * PAGE)!, 8);
    expect(Array.from(early)).toEqual([1, 2, 3, 4]);
    expect(heap.owns(early)).toBe(true);
    expect(heap.owns(late)).toBe(true);
    expect(heap.owns(new Float32Array(4))).toBe(false);
    expect(heap.owns(new Float32Array(new SharedArrayBuffer(16)))).toBe(false);
  });

  it('refuses to release what it did not hand out', () => {
    const heap = smallHeap(2);
    const a = heap.allocate(16)!;
    heap.release(a);
    expect(() => heap.release(a)).toThrow(/no live block/);
  });
});

describe('BufferPool over a heap', () => {
  it('takes from the heap, falls back to ordinary buffers when it is full, and releases past maxBytes', () => {
    const heap = smallHeap(2);
    const pool = new BufferPool(false, 0, heap);
    const inHeap = pool.take(1024);
    expect(heap.owns(inHeap)).toBe(true);
    const tooBig = pool.take(PAGE); // 256 KiB > 2 pages
    expect(heap.owns(tooBig)).toBe(false);
    expect(tooBig.length).toBe(PAGE);
    const live = heap.liveBytes;
    pool.give(inHeap); // maxBytes 0: straight back to the heap
    expect(heap.liveBytes).toBe(live - 4096);
    pool.give(tooBig);
    expect(pool.pooledBuffers).toBe(0);
  });

  it('keeps returned buffers for reuse, and clear() hands them to the heap', () => {
    const heap = smallHeap(4);
    const pool = new BufferPool(true, 1 << 20, heap);
    const a = pool.take(100);
    pool.give(a);
    expect(pool.take(100)).toBe(a);
    pool.give(a);
    expect(heap.liveBlocks).toBe(1);
    pool.clear();
    expect(heap.liveBlocks).toBe(0);
  });
});

// The job hand-off: a SIMD job (all numbers: byte offsets into the shared memory) goes to the
// helpers through shared words and Atomics.notify, with no message; a job whose arrays are not in
// the WebAssembly memory still goes by message. Before, every job was a postMessage.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Platform } from './platform.js';

const posts = { count: 0 };

vi.mock('#platform', async () => {
  // The actual module: '#platform' resolves to this file, so a plain import would be this mock.
  const node = await vi.importActual<typeof import('./platform.node.js')>('./platform.node.js');
  const platform: Platform = {
    ...node.platform,
    startHelper(source, words, init, onError) {
      const thread = node.platform.startHelper(source, words, init, onError);
      return {
        post(message) {
          posts.count++;
          thread.post(message);
        },
        stop: () => thread.stop(),
      };
    },
  };
  return { platform };
});

const { ThreadTeam, chunkEdge } = await import('./threads.js');
const { simdRuntime } = await import('./wasm/simd.js');

const ROWS = 4096;
const CHANNELS = 8;

/** Column sums of `x` ([ROWS, CHANNELS], value `(r·7 + c) % 13`) as shiftedSums computes them. */
function expectedSums(): number[] {
  const sums = new Array<number>(CHANNELS).fill(0);
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < CHANNELS; c++) sums[c]! += (r * 7 + c) % 13;
  return sums;
}

function fill(x: Float32Array): Float32Array {
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < CHANNELS; c++) x[r * CHANNELS + c] = (r * 7 + c) % 13;
  return x;
}

describe('ThreadTeam hand-off', () => {
  const simd = simdRuntime()!;
  const team = new ThreadTeam(2, simd);
  afterAll(() => team.destroy());
  const heapFloat32 = (length: number): Float32Array => simd.heap.float32(simd.heap.allocate(length * 4)!, length);
  const heapFloat64 = (length: number): Float64Array => simd.heap.float64(simd.heap.allocate(length * 8)!, length).fill(0);
  const sharedFloat64 = (length: number): Float64Array => new Float64Array(new SharedArrayBuffer(length * 8));

  /** Sums per part (each part its own accumulators), merged. */
  function run(useSimd: boolean, x: Float32Array): number[] {
    const parts: Float64Array[][] = [];
    const vector = useSimd ? heapFloat64 : sharedFloat64;
    const shift = vector(CHANNELS);
    const accumulators = (p: number): Float64Array[] => (parts[p] ??= [vector(CHANNELS), vector(CHANNELS)]);
    team.run(
      'shiftedSums',
      ROWS,
      (p, r0, r1) => [x, CHANNELS, 1, r0, r1, shift, accumulators(p)[0]!, accumulators(p)[1]!],
      useSimd ? simd : undefined,
    );
    const sums = new Array<number>(CHANNELS).fill(0);
    for (const [sum] of parts) for (let c = 0; c < CHANNELS; c++) sums[c]! += sum![c]!;
    return sums;
  }

  it('SIMD jobs reach the helper with no message; JavaScript jobs still go by message; mixed, every result is right', async () => {
    await team.whenReady();
    expect(team.helpersReady).toBe(1);
    const inHeap = fill(heapFloat32(ROWS * CHANNELS));
    const outside = fill(new Float32Array(new SharedArrayBuffer(ROWS * CHANNELS * 4)));
    const expected = expectedSums();

    const chunksBefore = team.helperChunks;
    for (let i = 0; i < 200; i++) expect(run(true, inHeap)).toEqual(expected);
    expect(posts.count).toBe(0);
    expect(team.helperChunks).toBeGreaterThan(chunksBefore);

    // Alternating kinds: a message of a cancelled job must never be taken for a later one.
    const chunksMixed = team.helperChunks;
    for (let i = 0; i < 300; i++) expect(run(i % 3 === 0, i % 3 === 0 ? inHeap : outside)).toEqual(expected);
    expect(posts.count).toBe(200);
    expect(team.helperChunks).toBeGreaterThan(chunksMixed);
  }, 60_000);
});

describe('chunkEdge', () => {
  it('puts the edges of four-row panels on multiples of 4, covering every row once', () => {
    for (const [rows, chunks] of [
      [60, 8],
      [784, 8],
      [10, 3],
      [7, 2],
    ] as const) {
      const edges = Array.from({ length: chunks + 1 }, (_, k) => chunkEdge(rows, chunks, 4, k));
      expect(edges[0]).toBe(0);
      expect(edges[chunks]).toBe(rows);
      for (let k = 1; k < chunks; k++) {
        expect(edges[k]! % 4).toBe(0);
        expect(edges[k]!).toBeGreaterThanOrEqual(edges[k - 1]!);
      }
    }
  });

  it('with align 1, splits rows as before: round(rows·k/chunks)', () => {
    for (let k = 0; k <= 8; k++) expect(chunkEdge(1000, 8, 1, k)).toBe(Math.round((1000 * k) / 8));
  });
});

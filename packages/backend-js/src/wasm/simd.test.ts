import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOOPS } from '../loops/index.js';
import { createBackend } from '../backend.js';
import { simdRuntime } from './simd.js';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));

describe('WebAssembly SIMD loops', () => {
  const simd = simdRuntime()!;

  it('are available on this engine (Node 20 has SIMD and shared memory), and on by default', () => {
    // Without this, every test below and the benchmark would silently run the JavaScript loops.
    expect(simd).toBeDefined();
    const backend = createBackend({ threads: 1 });
    expect(backend.details.simd).toBe('wasm-simd128');
    expect(createBackend({ threads: 1, simd: false }).details.simd).toBe('off');
    backend.destroy();
  });

  it('the generated module file is up to date with the .wat sources', () => {
    const result = spawnSync(process.execPath, ['scripts/compile-wasm.mjs', '--check'], { cwd: packageDir, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  // Shapes with every tail: channels not a multiple of 4, runs not a multiple of 4, a range
  // starting past row 0, one channel; and channels-last rows of 4 or more channels (1024 for the
  // backward sums), which go four rows per sweep (a block and two rows left over, two whole
  // blocks, too few for a block).
  const geometries = [
    [7, 3, 1], [9, 13, 1], [5, 8, 1], [6, 1, 1], [3, 5, 7], [4, 3, 16], [2, 4, 13], [3, 2, 3], [5, 6, 2],
    [7, 1027, 1], [9, 1024, 1], [4, 1030, 1], [8, 6, 1], [7, 64, 1],
  ] as const;
  const heap = simd.heap;
  const f32 = (values: ArrayLike<number>) => {
    const view = heap.float32(heap.allocate(values.length * 4)!, values.length);
    view.set(values);
    return view;
  };
  const f64 = (values: ArrayLike<number>) => {
    const view = heap.float64(heap.allocate(values.length * 8)!, values.length);
    view.set(values);
    return view;
  };
  const ptr = (view: ArrayBufferView) => view.byteOffset;

  describe.each(geometries.map(([rows, channels, inner]) => ({ rows, channels, inner })))(
    '[$rows, $channels, $inner]',
    ({ rows, channels, inner }) => {
      const size = rows * channels * inner;
      const x = f32(Array.from({ length: size }, (_, i) => Math.sin(i * 1.3) * 3 + 100));
      const dy = f32(Array.from({ length: size }, (_, i) => Math.cos(i * 0.7)));
      const u = f64(Array.from({ length: channels }, (_, c) => 1.1 + c));
      const v = f64(Array.from({ length: channels }, (_, c) => 0.3 - c));
      const w = f64(Array.from({ length: channels }, (_, c) => 99 + c * 0.01));
      const [r0, r1] = [1, rows];

      it('affine and backwardApply give the same bits as the JavaScript loops', () => {
        const got = f32(new Float32Array(size).fill(-7));
        const want = new Float32Array(size).fill(-7);
        simd.loops.affine(ptr(x), ptr(got), channels, inner, r0, r1, ptr(u), ptr(v));
        LOOPS.affine(x, want, channels, inner, r0, r1, u, v);
        expect(Array.from(got)).toEqual(Array.from(want));
        simd.loops.backwardApply(ptr(dy), ptr(x), ptr(got), channels, inner, r0, r1, ptr(u), ptr(v), ptr(w));
        LOOPS.backwardApply(dy, x, want, channels, inner, r0, r1, u, v, w);
        expect(Array.from(got)).toEqual(Array.from(want));
        // Rows before r0 were not touched.
        expect(Array.from(got.subarray(0, channels * inner))).toEqual(new Array(channels * inner).fill(-7));
      });

      it('shiftedSums and backwardSums add to the float64 sums the JavaScript loops get', () => {
        for (const loop of ['shiftedSums', 'backwardSums'] as const) {
          const first = f64(new Float64Array(channels).fill(0.5));
          const second = f64(new Float64Array(channels).fill(0.25));
          const wantFirst = new Float64Array(channels).fill(0.5);
          const wantSecond = new Float64Array(channels).fill(0.25);
          if (loop === 'shiftedSums') {
            simd.loops.shiftedSums(ptr(x), channels, inner, r0, r1, ptr(w), ptr(first), ptr(second));
            LOOPS.shiftedSums(x, channels, inner, r0, r1, w, wantFirst, wantSecond);
          } else {
            simd.loops.backwardSums(ptr(dy), ptr(x), channels, inner, r0, r1, ptr(w), ptr(first), ptr(second));
            LOOPS.backwardSums(dy, x, channels, inner, r0, r1, w, wantFirst, wantSecond);
          }
          // Channels-last rows go four per sweep (statistics from 4 channels, backward sums from
          // 1024): they add in the order of one row at a time, so the same bits.
          if (inner === 1 && channels >= (loop === 'shiftedSums' ? 4 : 1024)) {
            const rowFirst = f64(new Float64Array(channels).fill(0.5));
            const rowSecond = f64(new Float64Array(channels).fill(0.25));
            for (let r = r0; r < r1; r++) {
              if (loop === 'shiftedSums') simd.loops.shiftedSums(ptr(x), channels, inner, r, r + 1, ptr(w), ptr(rowFirst), ptr(rowSecond));
              else simd.loops.backwardSums(ptr(dy), ptr(x), channels, inner, r, r + 1, ptr(w), ptr(rowFirst), ptr(rowSecond));
            }
            expect(Array.from(first)).toEqual(Array.from(rowFirst));
            expect(Array.from(second)).toEqual(Array.from(rowSecond));
          }
          for (let c = 0; c < channels; c++) {
            // Only the order of the float64 additions differs.
            expect(Math.abs(first[c]! - wantFirst[c]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(wantFirst[c]!)));
            expect(Math.abs(second[c]! - wantSecond[c]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(wantSecond[c]!)));
          }
        }
      });
    },
  );
});

describe('tensors in the WebAssembly heap', () => {
  it('live in the heap, and go back to it on dispose and destroy', () => {
    const heap = simdRuntime()!.heap;
    const before = heap.liveBytes;
    const backend = createBackend({ threads: 1, poolBytes: 0 });
    const x = backend.upload(new Float32Array(1000).fill(2), [10, 100]);
    expect(heap.liveBytes).toBeGreaterThanOrEqual(before + 4000);
    backend.dispose(x);
    backend.destroy();
    expect(heap.liveBytes).toBe(before);
  });

  it('of tensors and backends dropped without dispose are released once collected', () => {
    // A child process with the collector exposed: drop 200 tensors of 400 KB, collect, compare.
    const script = `
      const { createBackend } = await import('./dist/index.js');
      const { simdRuntime } = await import('./dist/wasm/simd.js');
      const heap = simdRuntime().heap;
      let backend = createBackend({ threads: 1 });
      const base = heap.liveBytes;
      for (let i = 0; i < 200; i++) backend.relu(backend.upload(new Float32Array(100000), [100000]));
      const peak = heap.liveBytes;
      backend = undefined;
      for (let i = 0; i < 10 && heap.liveBytes > base; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      console.log(JSON.stringify({ base, peak, after: heap.liveBytes }));
    `;
    const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    const { base, peak, after } = JSON.parse(result.stdout) as Record<string, number>;
    expect(peak - base).toBeGreaterThanOrEqual(200 * 400_000);
    // Everything, the dropped backend's pool included, is back (the warm-up's scratch aside).
    expect(after).toBeLessThan(base);
  });
});

describe('WebAssembly SIMD matMulPanels', () => {
  const simd = simdRuntime()!;
  const heap = simd.heap;
  const inHeap = (values: ArrayLike<number>) => {
    const view = heap.float32(heap.allocate(values.length * 4)!, values.length);
    view.set(values);
    return view;
  };

  it('widen copies float32 values to float64 exactly, tail and special values included', () => {
    const values = [1.5, -0, 0, Infinity, -Infinity, NaN, 2 ** -149, -(2 ** 127), Math.fround(Math.PI), 7, -3];
    const from = inHeap(values);
    const to = heap.float64(heap.allocate((values.length + 1) * 8)!, values.length + 1).fill(-9);
    simd.loops.widen(from.byteOffset, to.byteOffset, values.length);
    expect(Array.from(to.subarray(0, values.length))).toEqual(Array.from(from));
    expect(Object.is(to[1], -0)).toBe(true);
    // Nothing past n is written.
    expect(to[values.length]).toBe(-9);
  });

  it('widen says whether every value is finite, in the vector part and in the tail', () => {
    const widenFinite = (values: number[]): unknown => {
      const from = inHeap(values);
      const to = heap.float64(heap.allocate(values.length * 8)!, values.length);
      return simd.loops.widen(from.byteOffset, to.byteOffset, values.length);
    };
    const finite = [1, -0, 0, 2 ** -149, -(2 ** 127), 3, 4, 5, 6];
    expect(widenFinite(finite)).toBe(1);
    for (const special of [Infinity, -Infinity, NaN]) {
      for (const at of [0, 3, 8]) expect(widenFinite(finite.map((v, i) => (i === at ? special : v)))).toBe(0);
    }
  });

  // Odd row counts (a lone last row), columns not a multiple of 4, depth 1, both storages of a;
  // r0 = 1 leaves 1 to 7 rows: four-row groups with every remainder (1, 2, 3 rows).
  it.each([
    [5, 6, 7, false], [5, 6, 7, true], [4, 1, 4, false], [7, 13, 10, true], [6, 33, 100, false], [3, 784, 9, true],
    [8, 9, 6, false], [8, 9, 6, true], [2, 5, 3, false],
  ] as const)('[%i×%i]·[%i] transposeA=%s: float64 sums in depth order rounded once, rows r0.. only, float32 or float64 operands', (rows, depth, cols, transposeA) => {
    const aValues = Array.from({ length: rows * depth }, (_, i) => Math.fround(Math.sin(i * 0.37)));
    const bValues = Array.from({ length: depth * cols }, (_, i) => Math.fround(Math.cos(i * 0.11)));
    const a = inHeap(aValues);
    const b = inHeap(bValues);
    const a64 = heap.float64(heap.allocate(aValues.length * 8)!, aValues.length);
    const b64 = heap.float64(heap.allocate(bValues.length * 8)!, bValues.length);
    a64.set(aValues);
    b64.set(bValues);
    const list = heap.float64(heap.allocate(48 * depth)!, 6 * depth);
    const r0 = 1;
    for (const [left, right, wide] of [[a, b, 0], [a64, b64, 2]] as const) {
      const c = inHeap(new Float32Array(rows * cols).fill(-9));
      const mode = (transposeA ? 1 : 0) | wide;
      simd.loops.matMulPanels(left.byteOffset, right.byteOffset, c.byteOffset, rows, depth, cols, mode, list.byteOffset, r0, rows);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const got = c[i * cols + j]!;
          if (i < r0) {
            expect(got).toBe(-9);
            continue;
          }
          // Products of float32 values are exact in float64; the sum adds them in depth order,
          // whatever the blocking: so the very same bits as this plain loop, rounded once.
          let want = 0;
          for (let p = 0; p < depth; p++) want += aValues[transposeA ? p * rows + i : i * depth + p]! * bValues[p * cols + j]!;
          expect(got).toBe(Math.fround(want));
        }
      }
    }
  });

  // Zero runs shared by a four-row group (left out), zeros in only some rows (kept), -0 and NaN.
  it.each([
    [9, 40, 10, false], [9, 40, 10, true], [4, 33, 7, false], [6, 17, 100, true],
  ] as const)('[%i×%i]·[%i] transposeA=%s, zero steps left out (mode 4): the bits of the full sum', (rows, depth, cols, transposeA) => {
    const aValues = Array.from({ length: rows * depth }, (_, k) => {
      const [i, p] = transposeA ? [k % rows, Math.floor(k / rows)] : [Math.floor(k / depth), k % depth];
      if (p % 5 < 3) return p % 7 === 0 ? -0 : 0; // whole steps of zeros
      if ((i + p) % 3 === 0) return 0; // a zero in some rows only
      return Math.fround(Math.sin(k * 0.37));
    });
    aValues[transposeA ? 4 * rows + 1 : depth + 4] = NaN; // kept: NaN is not zero
    const bValues = Array.from({ length: depth * cols }, (_, k) => Math.fround(Math.cos(k * 0.11) * 1e3));
    const a64 = heap.float64(heap.allocate(aValues.length * 8)!, aValues.length);
    const b64 = heap.float64(heap.allocate(bValues.length * 8)!, bValues.length);
    a64.set(aValues);
    b64.set(bValues);
    const list = heap.float64(heap.allocate(48 * depth)!, 6 * depth);
    const c = inHeap(new Float32Array(rows * cols));
    const mode = (transposeA ? 1 : 0) | 2 | 4;
    simd.loops.matMulPanels(a64.byteOffset, b64.byteOffset, c.byteOffset, rows, depth, cols, mode, list.byteOffset, 0, rows);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let want = 0;
        for (let p = 0; p < depth; p++) want += aValues[transposeA ? p * rows + i : i * depth + p]! * bValues[p * cols + j]!;
        expect(Object.is(c[i * cols + j], Math.fround(want))).toBe(true);
      }
    }
  });
});

describe('WebAssembly SIMD sigmoid', () => {
  const simd = simdRuntime()!;
  const heap = simd.heap;
  const specials = [0, -0, NaN, Infinity, -Infinity, 88.7, -88.7, 103.9, -103.9, 200, -200, 201, -201, 1e-30, 3.4e38, -3.4e38];

  it.each([1, 2, 3, 4, 5, 16, 4097])('%i values from r0 = 1: the bits of its JavaScript twin, NaN kept', (count) => {
    const n = count + 1;
    const x = heap.float32(heap.allocate(n * 4)!, n);
    for (let i = 0; i < n; i++) x[i] = i < specials.length ? specials[i]! : Math.fround(Math.sin(i * 12.9898) * 40);
    const y = heap.float32(heap.allocate(n * 4)!, n).fill(-9);
    const twin = new Float32Array(n).fill(-9);
    simd.loops.sigmoid(x.byteOffset, y.byteOffset, 1, n);
    LOOPS.sigmoid(x, twin, 1, n);
    expect(Array.from(y)).toEqual(Array.from(twin));
    expect(y[0]).toBe(-9);
  });

  // e^t by range reduction and a degree-13 polynomial, rounded to float32 once: on these million
  // values not one result differs from Math.exp's.
  it('gives the float32 of 1/(1 + Math.exp(−x)) on a million values across the range', () => {
    const n = 1 << 20;
    const x = heap.float32(heap.allocate(n * 4)!, n);
    const y = heap.float32(heap.allocate(n * 4)!, n);
    for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 78.233) * [1, 8, 30, 110][i % 4]!);
    x.set(specials);
    simd.loops.sigmoid(x.byteOffset, y.byteOffset, 0, n);
    let differing = 0;
    for (let i = 0; i < n; i++) if (!Object.is(y[i], Math.fround(1 / (1 + Math.exp(-x[i]!))))) differing++;
    expect(differing).toBe(0);
  });
});

describe('WebAssembly SIMD sgdUpdate', () => {
  const simd = simdRuntime()!;
  const heap = simd.heap;

  it.each([1, 2, 3, 7, 1000])('%i values from r0 = 1: the bits of its JavaScript twin (float64, rounded once)', (count) => {
    const n = count + 1;
    const start = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));
    const grad = heap.float32(heap.allocate(n * 4)!, n);
    for (let i = 0; i < n; i++) grad[i] = Math.fround(Math.cos(i * 0.3) * 1e-3);
    const rate = heap.float64(heap.allocate(8)!, 1);
    rate[0] = 0.1; // not a float32: the product is formed in float64
    const param = heap.float32(heap.allocate(n * 4)!, n);
    param.set(start);
    const twin = Float32Array.from(start);
    simd.loops.sgdUpdate(param.byteOffset, grad.byteOffset, rate.byteOffset, 1, n);
    LOOPS.sgdUpdate(twin, grad, rate, 1, n);
    expect(Array.from(param)).toEqual(Array.from(twin));
    expect(param[0]).toBe(start[0]);
    for (let i = 1; i < n; i++) expect(param[i]).toBe(Math.fround(start[i]! - 0.1 * grad[i]!));
  });
});

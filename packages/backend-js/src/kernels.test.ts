import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReferenceBackend,
  geometryOf,
  LAYOUTS,
  type Backend,
  type BatchNormAttrs,
  type Layout,
  type Shape,
  type TensorHandle,
} from '@batchnorm/core';
import { createBackend, type JsBackend } from './backend.js';
import { expectAllClose, randomFloat32 } from './__tests__/helpers.js';

const reference = createReferenceBackend();
// Threads forced on for every size, so the split paths run on small tensors too; each with the
// WebAssembly SIMD loops (the default) and with the JavaScript loops.
const variants = [
  { name: 'one thread', backend: createBackend({ threads: 1 }) },
  { name: 'two threads', backend: createBackend({ threads: 2, parallelMinElements: 1 }) },
  { name: 'one thread, simd off', backend: createBackend({ threads: 1, simd: false }) },
  { name: 'two threads, simd off', backend: createBackend({ threads: 2, parallelMinElements: 1, simd: false }) },
];
afterAll(() => variants.forEach(({ backend }) => backend.destroy()));
beforeAll(async () => {
  for (const { backend } of variants) {
    await backend.whenThreadsReady();
    // Without its helper up, a two-thread variant would silently test the main thread alone.
    expect(backend.readyHelpers()).toBe(backend.details.threads - 1);
  }
});

// Every layout: a single value per feature map and C = 1 among them, runs not a multiple of 4.
const shapes: Record<Layout, Shape[]> = {
  NC: [[2, 1], [7, 5], [60, 100], [33, 130]],
  NCL: [[2, 3, 1], [3, 4, 35], [5, 1, 9], [8, 6, 99]],
  NLC: [[2, 1, 3], [3, 35, 4], [5, 9, 1], [8, 99, 6]],
  NCHW: [[2, 3, 1, 1], [3, 4, 5, 7], [5, 1, 3, 3], [8, 6, 9, 11]],
  NHWC: [[2, 1, 1, 3], [3, 5, 7, 4], [5, 3, 3, 1], [8, 9, 11, 6]],
  NCDHW: [[2, 3, 1, 1, 1], [3, 4, 5, 7, 2], [5, 1, 3, 3, 3], [4, 6, 3, 9, 11]],
  NDHWC: [[2, 1, 1, 1, 3], [3, 2, 5, 7, 4], [5, 3, 3, 3, 1], [4, 3, 9, 11, 6]],
};

const regimes = [
  { regime: 'unit normal', scale: 1, offset: 0 },
  { regime: 'offset 1e4', scale: 1, offset: 1e4 },
  { regime: 'tiny variance', scale: 1e-3, offset: 3 },
] as const;

function run<T extends TensorHandle, S>(b: Backend<T, S>, data: Record<string, Float32Array>, shape: Shape, c: number) {
  const up = (name: string, s: Shape) => b.upload(data[name]!, s);
  return { x: up('x', shape), dy: up('dy', shape), gamma: up('gamma', [c]), beta: up('beta', [c]), mean: up('mean', [c]), variance: up('variance', [c]) };
}

/** Every batch-norm kernel of `backend` on one case, against the float64 reference. */
function compareWithReference(backend: JsBackend, layout: Layout, shape: Shape, { regime, scale, offset }: (typeof regimes)[number]): void {
  const { c, size } = geometryOf(layout, shape);
  const seed = size * 31 + c;
  const data = {
    x: randomFloat32(seed, size, scale, offset),
    dy: randomFloat32(seed + 1, size),
    gamma: randomFloat32(seed + 2, c, 0.5, 1),
    beta: randomFloat32(seed + 3, c),
    mean: randomFloat32(seed + 4, c, 0.1, offset),
    variance: randomFloat32(seed + 5, c, 0.1, 1).map(Math.abs),
  };
  const attrs: BatchNormAttrs = { layout, epsilon: 1e-5 };
  const ours = run(backend, data, shape, c);
  const ref = run(reference, data, shape, c);

  const got = backend.batchNormForwardTraining(ours, attrs);
  const want = reference.batchNormForwardTraining(ref, attrs);
  // μ within float32 rounding of its own magnitude; σ² relative to itself (the offset
  // must not leak into it: this is what E[x²] − E[x]² would get wrong).
  expectAllClose(backend.readSync(got.mean), reference.readSync(want.mean), 0, 1e-7);
  expectAllClose(backend.readSync(got.variance), reference.readSync(want.variance), 0, 1e-5);
  expectAllClose(backend.readSync(got.y), reference.readSync(want.y), 1e-5, 1e-5);
  // saved: the statistics in float64, a thousand times closer than float32 rounding could be
  // (backward centres x on this mean).
  expectAllClose(got.saved.mean, want.saved.mean, 1e-12, 1e-12);
  expectAllClose(got.saved.variance, want.saved.variance, 1e-15, 1e-9);

  const inference = backend.batchNormForwardInference(ours, attrs);
  const inferenceWant = reference.batchNormForwardInference(ref, attrs);
  expectAllClose(backend.readSync(inference), reference.readSync(inferenceWant), 1e-5, 1e-5);

  const grads = backend.batchNormBackward({ ...ours, saved: got.saved }, attrs);
  const gradsWant = reference.batchNormBackward({ ...ref, saved: want.saved }, attrs);
  // dx scales like γ/σ; allow float32 rounding of the terms it cancels.
  const dxScale = regime === 'tiny variance' ? 1 / scale : 1;
  expectAllClose(backend.readSync(grads.dx), reference.readSync(gradsWant.dx), 1e-5 * dxScale, 1e-4);
  expectAllClose(backend.readSync(grads.dgamma), reference.readSync(gradsWant.dgamma), 1e-4, 1e-5);
  expectAllClose(backend.readSync(grads.dbeta), reference.readSync(gradsWant.dbeta), 1e-4, 1e-5);

  const running = backend.runningAverage({ running: ours.variance, batch: got.variance }, { factor: 0.1, batchScale: 1.5 });
  const runningWant = reference.runningAverage({ running: ref.variance, batch: want.variance }, { factor: 0.1, batchScale: 1.5 });
  expectAllClose(backend.readSync(running), reference.readSync(runningWant), 0, 1e-6);

  for (const t of [...Object.values(ours), got.y, got.mean, got.variance, inference, grads.dx, grads.dgamma, grads.dbeta, running]) {
    backend.dispose(t);
  }
  backend.disposeSaved(got.saved);
}

describe.each(variants)('js backend ($name) against the reference', ({ backend }) => {
  describe.each(LAYOUTS.map((layout) => ({ layout })))('$layout', ({ layout }) => {
    it.each(shapes[layout].flatMap((shape) => regimes.map((r) => ({ shape, ...r }))))('$shape, $regime', ({ shape, ...r }) => {
      compareWithReference(backend, layout, shape, r);
    });
  });

  describe('MLP kernels', () => {
    const matMulCases = [
      { m: 60, k: 784, n: 100 },
      { m: 60, k: 100, n: 10 },
      { m: 7, k: 13, n: 5 },
      { m: 1, k: 3, n: 1 },
      { m: 9, k: 6, n: 11 },
    ];
    it.each(
      matMulCases.flatMap((c) =>
        [false, true].flatMap((transposeA) => [false, true].map((transposeB) => ({ ...c, transposeA, transposeB }))),
      ),
    )('matMul $m×$k·$k×$n transposeA=$transposeA transposeB=$transposeB', ({ m, k, n, transposeA, transposeB }) => {
      const aShape = transposeA ? [k, m] : [m, k];
      const bShape = transposeB ? [n, k] : [k, n];
      const a = randomFloat32(m * 1000 + k, m * k);
      const b = randomFloat32(n * 1000 + k + 7, k * n);
      const got = backend.matMul(backend.upload(a, aShape), backend.upload(b, bShape), { transposeA, transposeB });
      const want = reference.matMul(reference.upload(a, aShape), reference.upload(b, bShape), { transposeA, transposeB });
      expect(got.shape).toEqual([m, n]);
      expectAllClose(backend.readSync(got), reference.readSync(want), 1e-5 * Math.sqrt(k), 1e-5);
    });

    // Mostly zero rows, like MNIST pixels: the SIMD loop leaves zero steps out only when every
    // value of b is finite, since 0·∞ is NaN.
    it.each([false, true])('matMul of a mostly zero a: the same bits with zero steps left out, NaN kept for 0·∞ (transposeA=%s)', (transposeA) => {
      const [m, k, n] = [60, 784, 100];
      const a = randomFloat32(21, m * k).map((v, i) => (i % 7 < 5 || v < 0 ? 0 : v));
      const b = randomFloat32(22, k * n);
      const aShape = transposeA ? [k, m] : [m, k];
      const product = (bValues: Float32Array) => ({
        got: backend.readSync(backend.matMul(backend.upload(a, aShape), backend.upload(bValues, [k, n]), { transposeA })),
        want: reference.readSync(reference.matMul(reference.upload(a, aShape), reference.upload(bValues, [k, n]), { transposeA })),
      });
      const finite = product(b);
      expectAllClose(finite.got, finite.want, 1e-5 * Math.sqrt(k), 1e-5);
      // b[0, 3] = ∞ meets a[0, 0] = 0, so c[0, 3] is NaN.
      const withInfinity = b.slice();
      withInfinity[3] = Infinity;
      const { got, want } = product(withInfinity);
      expect(Number.isNaN(want[3]!)).toBe(true);
      expect(Array.from(got, Number.isNaN)).toEqual(Array.from(want, Number.isNaN));
    });

    const x = randomFloat32(11, 6 * 10, 3);
    const y01 = randomFloat32(12, 6 * 10).map((v) => 1 / (1 + Math.exp(-v)));
    const dy = randomFloat32(13, 6 * 10);
    const bias = randomFloat32(14, 10);
    const labels = new Float32Array(60).map((_, i) => (i % 10 === Math.floor(i / 10) ? 1 : 0));
    const shape = [6, 10];
    const pairs = <T extends TensorHandle>(b: Backend<T>) => ({
      x: b.upload(x, shape),
      y: b.upload(y01, shape),
      dy: b.upload(dy, shape),
      bias: b.upload(bias, [10]),
      labels: b.upload(labels, shape),
    });
    const ours = pairs(backend);
    const ref = pairs(reference);
    const unary: [string, (t: typeof ours) => TensorHandle, (t: typeof ref) => TensorHandle][] = [
      ['addBias', (t) => backend.addBias(t.x, t.bias), (t) => reference.addBias(t.x, t.bias)],
      ['sumRows', (t) => backend.sumRows(t.x), (t) => reference.sumRows(t.x)],
      ['sigmoid', (t) => backend.sigmoid(t.x), (t) => reference.sigmoid(t.x)],
      ['sigmoidBackward', (t) => backend.sigmoidBackward(t.dy, t.y), (t) => reference.sigmoidBackward(t.dy, t.y)],
      ['relu', (t) => backend.relu(t.x), (t) => reference.relu(t.x)],
      ['reluBackward', (t) => backend.reluBackward(t.dy, t.x), (t) => reference.reluBackward(t.dy, t.x)],
      ['softmaxCrossEntropy loss', (t) => backend.softmaxCrossEntropy(t.x, t.labels).loss, (t) => reference.softmaxCrossEntropy(t.x, t.labels).loss],
      ['softmaxCrossEntropy dLogits', (t) => backend.softmaxCrossEntropy(t.x, t.labels).dLogits, (t) => reference.softmaxCrossEntropy(t.x, t.labels).dLogits],
    ];
    it.each(unary.map(([name, mine, theirs]) => ({ name, mine, theirs })))('$name', ({ mine, theirs }) => {
      const got = mine(ours);
      const want = theirs(ref);
      expect(got.shape).toEqual(want.shape);
      expectAllClose(backend.readSync(got as never), reference.readSync(want as never), 1e-6, 1e-6);
    });

    it('sgdUpdate updates the parameter in place and returns it', () => {
      const param = backend.upload(x, shape);
      const grad = backend.upload(dy, shape);
      const updated = backend.sgdUpdate(param, grad, { learningRate: 0.5 });
      const want = reference.sgdUpdate(reference.upload(x, shape), reference.upload(dy, shape), { learningRate: 0.5 });
      expect(updated).toBe(param);
      expectAllClose(backend.readSync(updated), reference.readSync(want), 1e-6, 1e-6);
    });
  });
});

// Tensors past the default parallelMinElements (2¹⁸) with default options: the helper thread
// takes its chunks (checked), and the SIMD loops run, four rows per sweep for the NLC rows of
// 1030 channels. NCDHW splits two samples of one 8448-value run per channel.
const largeShapes: readonly { layout: Layout; shape: Shape }[] = [
  { layout: 'NCL', shape: [8, 64, 1024] },
  { layout: 'NLC', shape: [4, 64, 1030] },
  { layout: 'NCDHW', shape: [2, 16, 8, 32, 33] },
  { layout: 'NDHWC', shape: [4, 8, 16, 16, 33] },
];

describe('js backend (default options) on large tensors of the new ranks, against the reference', () => {
  const backend = createBackend();
  beforeAll(() => backend.whenThreadsReady());
  afterAll(() => backend.destroy());

  it.each(largeShapes.flatMap(({ layout, shape }) => regimes.slice(0, 2).map((r) => ({ layout, shape, ...r }))))(
    '$layout $shape, $regime',
    ({ layout, shape, ...r }) => {
      expect(backend.details.simd).toBe('wasm-simd128');
      expect(geometryOf(layout, shape).size).toBeGreaterThanOrEqual(2 ** 18);
      const before = backend.helperChunks();
      // The OS may not schedule the helper in time for one call (by design the main thread then
      // does it all); a few calls give it its share.
      for (let i = 0; i < 5 && backend.helperChunks() === before; i++) compareWithReference(backend, layout, shape, r);
      expect(backend.helperChunks()).toBeGreaterThan(before);
    },
    60_000,
  );
});

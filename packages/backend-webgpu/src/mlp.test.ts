import { createRandom, type ReferenceTensor, type Shape } from '@batchnorm/core';
import type { ConformanceCase, KernelOp } from '@batchnorm/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWithinTolerance, randomValues, reference } from './__tests__/helpers.js';
import { createBackend } from './index.js';
import type { WebGpuBackend, WebGpuTensor } from './types.js';

/**
 * The MLP kernels and runningAverage against the float64 reference, judged with the tolerances
 * the conformance suite derives for plain float32 arithmetic (the manifest's profile).
 */

let backend: WebGpuBackend;
beforeAll(async () => {
  backend = await createBackend();
});
afterAll(() => backend?.destroy());

type Inputs = Record<string, { data: Float64Array; shape: Shape }>;

/** Runs `op` on both backends and compares every output with the derived tolerance. */
async function check(
  op: KernelOp,
  label: string,
  inputs: Inputs,
  attrs: Record<string, number | boolean>,
  want: (t: Record<string, ReferenceTensor>) => Record<string, ReferenceTensor>,
  got: (b: WebGpuBackend, t: Record<string, WebGpuTensor>) => Record<string, WebGpuTensor>,
): Promise<void> {
  const refTensors: Record<string, ReferenceTensor> = {};
  const ours: Record<string, WebGpuTensor> = {};
  for (const [key, { data, shape }] of Object.entries(inputs)) {
    refTensors[key] = reference.upload(data, shape);
    ours[key] = backend.upload(Float32Array.from(data), shape);
  }
  // once: the reference's sgdUpdate consumes its param
  const wanted = want(refTensors);
  const expected: Record<string, Float64Array> = {};
  for (const [key, t] of Object.entries(wanted)) expected[key] = t.data;
  const outputs = got(backend, ours);
  const values: Record<string, Float32Array | Float64Array> = {};
  for (const [key, t] of Object.entries(outputs)) {
    expect(t.shape, key).toEqual(wanted[key]!.shape);
    values[key] = await backend.read(t);
  }
  for (const t of new Set([...Object.values(ours), ...Object.values(outputs)])) backend.dispose(t);
  const c: ConformanceCase = {
    name: `${op}/${label}`,
    op,
    shape: Object.values(inputs)[0]!.shape,
    attrs,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.data])),
    shapes: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape])),
    expected,
  };
  expectWithinTolerance(c, values, 'float32');
}

describe('matMul', () => {
  // K = 1, one tile, K not a multiple of the tile, and MNIST's first layer (K = 784)
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [2, 3, 4],
    [7, 37, 5],
    [33, 17, 19],
    [60, 784, 100],
  ];
  for (const [m, k, n] of shapes) {
    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`[${m}, ${k}]·[${k}, ${n}] transposeA ${transposeA} transposeB ${transposeB}`, () => {
        const seed = m * 1000 + k * 10 + n + (transposeA ? 1e6 : 0) + (transposeB ? 2e6 : 0);
        const a = { data: randomValues(seed, m * k), shape: transposeA ? [k, m] : [m, k] };
        const b = { data: randomValues(seed + 1, k * n), shape: transposeB ? [n, k] : [k, n] };
        const attrs = { transposeA, transposeB };
        return check(
          'matMul',
          `${m}x${k}x${n}`,
          { a, b },
          attrs,
          (t) => ({ out: reference.matMul(t['a']!, t['b']!, attrs) }),
          (bk, t) => ({ out: bk.matMul(t['a']!, t['b']!, attrs) }),
        );
      });
    }
  }
});

describe('elementwise and row kernels', () => {
  const matrices: [number, number][] = [
    [1, 1],
    [7, 13],
    [60, 100],
    [700, 3],
  ];
  for (const [rows, cols] of matrices) {
    const dims = `${rows}x${cols}`;
    const size = rows * cols;
    it(`addBias ${dims} (offset 1e3)`, () =>
      check(
        'addBias',
        dims,
        { x: { data: randomValues(1, size, 1, 1e3), shape: [rows, cols] }, bias: { data: randomValues(2, cols), shape: [cols] } },
        {},
        (t) => ({ out: reference.addBias(t['x']!, t['bias']!) }),
        (b, t) => ({ out: b.addBias(t['x']!, t['bias']!) }),
      ));
    it(`sumRows ${dims} (offset 1e3)`, () =>
      check(
        'sumRows',
        dims,
        { x: { data: randomValues(3, size, 1, 1e3), shape: [rows, cols] } },
        {},
        (t) => ({ out: reference.sumRows(t['x']!) }),
        (b, t) => ({ out: b.sumRows(t['x']!) }),
      ));
    it(`sigmoid ${dims}`, () =>
      check(
        'sigmoid',
        dims,
        { x: { data: randomValues(4, size, 3), shape: [rows, cols] } },
        {},
        (t) => ({ out: reference.sigmoid(t['x']!) }),
        (b, t) => ({ out: b.sigmoid(t['x']!) }),
      ));
    it(`sigmoidBackward ${dims}`, () => {
      const random = createRandom(5);
      return check(
        'sigmoidBackward',
        dims,
        {
          dy: { data: randomValues(6, size), shape: [rows, cols] },
          y: { data: Float64Array.from({ length: size }, () => Math.fround(random.uniform())), shape: [rows, cols] },
        },
        {},
        (t) => ({ out: reference.sigmoidBackward(t['dy']!, t['y']!) }),
        (b, t) => ({ out: b.sigmoidBackward(t['dy']!, t['y']!) }),
      );
    });
    const withZeros = (seed: number) => {
      const random = createRandom(seed);
      return Float64Array.from({ length: size }, () => (random.uniform() < 0.25 ? 0 : Math.fround(random.normal())));
    };
    it(`relu ${dims} (a quarter exactly 0)`, () =>
      check(
        'relu',
        dims,
        { x: { data: withZeros(7), shape: [rows, cols] } },
        {},
        (t) => ({ out: reference.relu(t['x']!) }),
        (b, t) => ({ out: b.relu(t['x']!) }),
      ));
    it(`reluBackward ${dims} (a quarter of x exactly 0)`, () =>
      check(
        'reluBackward',
        dims,
        { dy: { data: randomValues(8, size), shape: [rows, cols] }, x: { data: withZeros(9), shape: [rows, cols] } },
        {},
        (t) => ({ out: reference.reluBackward(t['dy']!, t['x']!) }),
        (b, t) => ({ out: b.reluBackward(t['dy']!, t['x']!) }),
      ));
    it(`softmaxCrossEntropy ${dims} (one-hot labels)`, () => {
      const random = createRandom(10);
      const labels = new Float64Array(size);
      for (let r = 0; r < rows; r++) labels[r * cols + Math.floor(random.uniform() * cols)] = 1;
      return check(
        'softmaxCrossEntropy',
        dims,
        { logits: { data: randomValues(11, size, 3), shape: [rows, cols] }, labels: { data: labels, shape: [rows, cols] } },
        {},
        (t) => ({ ...reference.softmaxCrossEntropy(t['logits']!, t['labels']!) }),
        (b, t) => ({ ...b.softmaxCrossEntropy(t['logits']!, t['labels']!) }),
      );
    });
  }

  it('sigmoid far out in both tails stays finite: 0 and 1, no NaN', () =>
    check(
      'sigmoid',
      'tails',
      { x: { data: Float64Array.of(-800, -88, -20, 0, 20, 88, 800), shape: [7] } },
      {},
      (t) => ({ out: reference.sigmoid(t['x']!) }),
      (b, t) => ({ out: b.sigmoid(t['x']!) }),
    ));

  it('sigmoid over [−100, 100] in steps of 1/512 (102,401 points) is within plain float32 tolerance', () => {
    const x = Float64Array.from({ length: 102_401 }, (_, i) => -100 + i / 512);
    return check(
      'sigmoid',
      'range',
      { x: { data: x, shape: [x.length] } },
      {},
      (t) => ({ out: reference.sigmoid(t['x']!) }),
      (b, t) => ({ out: b.sigmoid(t['x']!) }),
    );
  });

  it('softmaxCrossEntropy with logits of ±1000 (the row maximum is subtracted first)', () =>
    check(
      'softmaxCrossEntropy',
      'huge',
      { logits: { data: Float64Array.of(1000, 0, -1000, 1000), shape: [2, 2] }, labels: { data: Float64Array.of(1, 0, 1, 0), shape: [2, 2] } },
      {},
      (t) => ({ ...reference.softmaxCrossEntropy(t['logits']!, t['labels']!) }),
      (b, t) => ({ ...b.softmaxCrossEntropy(t['logits']!, t['labels']!) }),
    ));
});

describe('runningAverage and sgdUpdate', () => {
  for (const [factor, batchScale] of [
    [0.1, 1],
    [0.3, 60 / 59],
    [1, 1],
    [0, 1],
  ] as const) {
    it(`runningAverage factor ${factor}, batchScale ${batchScale}`, () =>
      check(
        'runningAverage',
        `${factor}/${batchScale}`,
        { running: { data: randomValues(20, 37), shape: [37] }, batch: { data: randomValues(21, 37, 1, 1e4), shape: [37] } },
        { factor, batchScale },
        (t) => ({ out: reference.runningAverage({ running: t['running']!, batch: t['batch']! }, { factor, batchScale }) }),
        (b, t) => ({ out: b.runningAverage({ running: t['running']!, batch: t['batch']! }, { factor, batchScale }) }),
      ));
  }

  it('sgdUpdate updates param in place and returns it', async () => {
    const param = backend.upload(Float32Array.of(1, 2, -3), [3]);
    const grad = backend.upload(Float32Array.of(0.5, -1, 2), [3]);
    const out = backend.sgdUpdate(param, grad, { learningRate: 0.1 });
    expect(out).toBe(param);
    expect(Array.from(await backend.read(out))).toEqual([Math.fround(1 - 0.05), Math.fround(2.1), Math.fround(-3.2)]);
    backend.dispose(out);
    backend.dispose(grad);
  });

  it('sgdUpdate(p, p): the same tensor as param and gradient (read from a copy, no device error)', async () => {
    const p = backend.upload(Float32Array.of(2, -4, 8), [3]);
    const out = backend.sgdUpdate(p, p, { learningRate: 0.25 });
    expect(Array.from(await backend.read(out))).toEqual([1.5, -3, 6]);
    expect(backend.stats().uncapturedErrors).toBe(0);
    backend.dispose(out);
  });

  it('sgdUpdate 60x100 against the reference', () =>
    check(
      'sgdUpdate',
      '60x100',
      { param: { data: randomValues(30, 6000), shape: [60, 100] }, grad: { data: randomValues(31, 6000, 0.1), shape: [60, 100] } },
      { learningRate: 0.5 },
      (t) => ({ out: reference.sgdUpdate(t['param']!, t['grad']!, { learningRate: 0.5 }) }),
      (b, t) => ({ out: b.sgdUpdate(t['param']!, t['grad']!, { learningRate: 0.5 }) }),
    ));
});

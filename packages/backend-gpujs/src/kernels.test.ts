import { geometryOf, type Layout, type Shape } from '@batchnorm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { backendFor, closeness, randomValues, reference, sizeOf, TESTED_MODES } from './__tests__/helpers.js';
import type { GpuJsBackend } from './createBackend.js';
import type { GpuTensor } from './tensor.js';

const ATOL = 1e-4;
const RTOL = 1e-3;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = ATOL, rtol = RTOL): void {
  const { ok, message } = closeness(got, want, atol, rtol);
  expect(ok, message).toBe(true);
}

interface BatchNormCase {
  readonly name: string;
  readonly layout: Layout;
  readonly shape: Shape;
  readonly offset: number;
  readonly scale: number;
}

const BATCH_NORM_CASES: readonly BatchNormCase[] = [
  { name: 'NC small', layout: 'NC', shape: [8, 5], offset: 0, scale: 1 },
  { name: 'NCHW', layout: 'NCHW', shape: [3, 4, 5, 6], offset: 0.5, scale: 2 },
  { name: 'NHWC', layout: 'NHWC', shape: [3, 5, 6, 4], offset: -1, scale: 0.5 },
  { name: 'NC m = 2', layout: 'NC', shape: [2, 3], offset: 0, scale: 1 },
  { name: 'NC large offset 1e4 + N(0,1)', layout: 'NC', shape: [4096, 16], offset: 1e4, scale: 1 },
  { name: 'NCHW large m (m = 16·33·33)', layout: 'NCHW', shape: [16, 3, 33, 33], offset: 1e4, scale: 1 },
  { name: 'NHWC large m', layout: 'NHWC', shape: [8, 40, 40, 3], offset: 3, scale: 0.01 },
  { name: 'NCL', layout: 'NCL', shape: [4, 3, 7], offset: 0.5, scale: 2 },
  { name: 'NLC', layout: 'NLC', shape: [4, 7, 3], offset: -1, scale: 0.5 },
  { name: 'NCDHW', layout: 'NCDHW', shape: [2, 3, 3, 4, 5], offset: 0.5, scale: 2 },
  { name: 'NDHWC', layout: 'NDHWC', shape: [2, 3, 4, 5, 3], offset: -1, scale: 0.5 },
  { name: 'NCDHW N = 1 with a spatial extent', layout: 'NCDHW', shape: [1, 2, 3, 3, 3], offset: 0, scale: 1 },
  { name: 'NCHW one position per map ([N, C, 1, 1])', layout: 'NCHW', shape: [8, 5, 1, 1], offset: 0, scale: 1 },
  { name: 'NCL large offset 1e4, m = 16·300', layout: 'NCL', shape: [16, 3, 300], offset: 1e4, scale: 1 },
  { name: 'NDHWC large offset 1e4, m = 4·8·10·10', layout: 'NDHWC', shape: [4, 8, 10, 10, 3], offset: 1e4, scale: 1 },
];

for (const mode of TESTED_MODES) {
  describe(`gpujs kernels against the reference, mode ${mode}`, () => {
    let backend: GpuJsBackend | undefined;
    const open = (): GpuJsBackend => (backend ??= backendFor(mode));
    afterAll(() => backend?.destroy());

    const upload = (data: Float64Array, shape: Shape): GpuTensor =>
      open().upload(Float32Array.from(data), shape);
    // The reference sees the same float32-rounded inputs.
    const refUpload = (data: Float64Array, shape: Shape) => reference.upload(Float64Array.from(Float32Array.from(data)), shape);

    it(`runs in mode ${mode}`, () => {
      expect(open().mode).toBe(mode);
      expect(open().details['mode']).toBe(mode);
    });

    for (const c of BATCH_NORM_CASES) {
      it(`batch norm forward, inference and backward: ${c.name}`, () => {
        const b = open();
        const g = geometryOf(c.layout, c.shape);
        const xData = randomValues(1, g.size, c.scale, c.offset);
        const dyData = randomValues(2, g.size);
        const gammaData = randomValues(3, g.c, 0.5, 1);
        const betaData = randomValues(4, g.c);
        const attrs = { layout: c.layout, epsilon: 1e-5 };
        const x = upload(xData, c.shape);
        const gamma = upload(gammaData, [g.c]);
        const beta = upload(betaData, [g.c]);
        const dy = upload(dyData, c.shape);
        const rx = refUpload(xData, c.shape);
        const rgamma = refUpload(gammaData, [g.c]);
        const rbeta = refUpload(betaData, [g.c]);
        const rdy = refUpload(dyData, c.shape);

        const out = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
        const want = reference.batchNormForwardTraining({ x: rx, gamma: rgamma, beta: rbeta }, attrs);
        expectClose(b.readSync(out.mean), want.mean.data);
        expectClose(b.readSync(out.variance), want.variance.data);
        expectClose(b.readSync(out.y), want.y.data);

        const inferred = b.batchNormForwardInference({ x, gamma, beta, mean: out.mean, variance: out.variance }, attrs);
        // Inference trusts the statistics it is given: feed the reference the same float32 ones
        // (a float32 mean near 1e4 is itself only good to 5e-4, whoever computes with it).
        const wantInferred = reference.batchNormForwardInference(
          {
            x: rx,
            gamma: rgamma,
            beta: rbeta,
            mean: reference.upload(b.readSync(out.mean), [g.c]),
            variance: reference.upload(b.readSync(out.variance), [g.c]),
          },
          attrs,
        );
        expectClose(b.readSync(inferred), wantInferred.data);

        const grads = b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
        const wantGrads = reference.batchNormBackward({ dy: rdy, x: rx, gamma: rgamma, saved: want.saved }, attrs);
        expectClose(b.readSync(grads.dbeta), wantGrads.dbeta.data);
        expectClose(b.readSync(grads.dgamma), wantGrads.dgamma.data);
        expectClose(b.readSync(grads.dx), wantGrads.dx.data);
        for (const t of [x, gamma, beta, dy, out.y, out.mean, out.variance, inferred, grads.dx, grads.dgamma, grads.dbeta]) {
          b.dispose(t);
        }
        b.disposeSaved(out.saved);
      });
    }

    it('saved outlives y, mean and variance, serves several backward calls, and is released once', () => {
      const b = open();
      const shape = [6, 4, 5];
      const attrs = { layout: 'NLC', epsilon: 1e-5 } as const;
      const xData = randomValues(41, sizeOf(shape), 1, 1e4);
      const dyData = randomValues(42, sizeOf(shape));
      const x = upload(xData, shape);
      const dy = upload(dyData, shape);
      const gamma = upload(randomValues(43, 5, 0.5, 1), [5]);
      const beta = upload(randomValues(44, 5), [5]);
      const out = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
      for (const t of [out.y, out.mean, out.variance]) b.dispose(t);
      const first = b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
      const second = b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
      const rx = refUpload(xData, shape);
      const rgamma = reference.upload(b.readSync(gamma), [5]);
      const want = reference.batchNormBackward(
        {
          dy: refUpload(dyData, shape),
          x: rx,
          gamma: rgamma,
          saved: reference.batchNormForwardTraining({ x: rx, gamma: rgamma, beta: reference.upload(b.readSync(beta), [5]) }, attrs).saved,
        },
        attrs,
      );
      // The shifted statistics keep x̂'s digits at 1e4 though mean and variance were disposed.
      expectClose(b.readSync(first.dx), want.dx.data);
      expectClose(b.readSync(first.dgamma), want.dgamma.data);
      for (const k of ['dx', 'dgamma', 'dbeta'] as const) {
        expect(Array.from(b.readSync(second[k]))).toEqual(Array.from(b.readSync(first[k])));
      }
      b.disposeSaved(out.saved);
      b.disposeSaved(out.saved);
      let error: unknown;
      try {
        b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'BatchNormError', code: 'INVALID_HANDLE', argument: 'saved' });
      for (const t of [x, dy, gamma, beta, first.dx, first.dgamma, first.dbeta, second.dx, second.dgamma, second.dbeta]) {
        b.dispose(t);
      }
    });

    it('read captures the values when called: the tensor may be disposed at once', async () => {
      const b = open();
      const a = upload(Float64Array.of(1, 2, 3, 4), [2, 2]);
      const identity = upload(Float64Array.of(1, 0, 0, 1), [2, 2]);
      const t = b.matMul(a, identity);
      const pending = b.read(t);
      b.dispose(t);
      expect(Array.from(await pending)).toEqual([1, 2, 3, 4]);
      b.dispose(a);
      b.dispose(identity);
    });

    it('large offset [4096, 64] at 1e4: mean within one float32 rounding, variance to 1e-5', () => {
      const b = open();
      const shape = [4096, 64];
      const xData = Float64Array.from(Float32Array.from(randomValues(31, 4096 * 64, 1, 1e4)));
      const ones = new Float64Array(64).fill(1);
      const out = b.batchNormForwardTraining(
        { x: upload(xData, shape), gamma: upload(ones, [64]), beta: upload(new Float64Array(64), [64]) },
        { layout: 'NC', epsilon: 1e-5 },
      );
      const want = reference.batchNormForwardTraining(
        { x: reference.upload(xData, shape), gamma: reference.upload(ones, [64]), beta: reference.upload(new Float64Array(64), [64]) },
        { layout: 'NC', epsilon: 1e-5 },
      );
      const mean = b.readSync(out.mean);
      const variance = b.readSync(out.variance);
      // A float32 number near 1e4 is a multiple of 2⁻¹⁰: the best answer is within half of that.
      let worstMean = 0;
      let worstVariance = 0;
      let worstNaive = 0;
      for (let c = 0; c < 64; c++) {
        worstMean = Math.max(worstMean, Math.abs(mean[c]! - want.mean.data[c]!));
        worstVariance = Math.max(worstVariance, Math.abs(variance[c]! / want.variance.data[c]! - 1));
        // What a naive float32 running sum would give, for contrast.
        let naive = 0;
        for (let n = 0; n < 4096; n++) naive = Math.fround(naive + xData[n * 64 + c]!);
        worstNaive = Math.max(worstNaive, Math.abs(Math.fround(naive / 4096) - want.mean.data[c]!));
      }
      expect(worstMean).toBeLessThanOrEqual(2 ** -11 + 1e-6);
      expect(worstVariance).toBeLessThan(1e-5);
      expect(worstNaive).toBeGreaterThan(2 ** -11);
    });

    it('runningAverage', () => {
      const b = open();
      const r = randomValues(5, 7);
      const s = randomValues(6, 7);
      const got = b.runningAverage({ running: upload(r, [7]), batch: upload(s, [7]) }, { factor: 0.1, batchScale: 1.25 });
      const want = reference.runningAverage({ running: refUpload(r, [7]), batch: refUpload(s, [7]) }, { factor: 0.1, batchScale: 1.25 });
      expectClose(b.readSync(got), want.data);
    });

    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`matMul transposeA ${transposeA} transposeB ${transposeB}`, () => {
        const b = open();
        const [m, k, n] = [13, 37, 9];
        const aShape = transposeA ? [k, m] : [m, k];
        const bShape = transposeB ? [n, k] : [k, n];
        const aData = randomValues(7, m * k);
        const bData = randomValues(8, k * n);
        const got = b.matMul(upload(aData, aShape), upload(bData, bShape), { transposeA, transposeB });
        const want = reference.matMul(refUpload(aData, aShape), refUpload(bData, bShape), { transposeA, transposeB });
        expect(got.shape).toEqual([m, n]);
        expectClose(b.readSync(got), want.data);
      });
    }

    it('addBias, sumRows, sigmoid, relu and their backward', () => {
      const b = open();
      const shape = [11, 6];
      const xData = randomValues(9, 66, 4);
      const dyData = randomValues(10, 66);
      const biasData = randomValues(11, 6);
      const x = upload(xData, shape);
      const dy = upload(dyData, shape);
      const rx = refUpload(xData, shape);
      const rdy = refUpload(dyData, shape);
      expectClose(b.readSync(b.addBias(x, upload(biasData, [6]))), reference.addBias(rx, refUpload(biasData, [6])).data);
      expectClose(b.readSync(b.sumRows(x)), reference.sumRows(rx).data);
      const y = b.sigmoid(x);
      expectClose(b.readSync(y), reference.sigmoid(rx).data);
      expectClose(b.readSync(b.sigmoidBackward(dy, y)), reference.sigmoidBackward(rdy, reference.sigmoid(rx)).data);
      expectClose(b.readSync(b.relu(x)), reference.relu(rx).data);
      expectClose(b.readSync(b.reluBackward(dy, x)), reference.reluBackward(rdy, rx).data);
    });

    it('sumRows over many rows (tree reduction)', () => {
      const b = open();
      const shape = [5000, 3];
      const data = randomValues(12, sizeOf(shape), 1, 100);
      expectClose(b.readSync(b.sumRows(upload(data, shape))), reference.sumRows(refUpload(data, shape)).data);
    });

    it('softmaxCrossEntropy', () => {
      const b = open();
      const [rows, cols] = [17, 10];
      const logitsData = randomValues(13, rows * cols, 3);
      const labelsData = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) labelsData[r * cols + ((r * 7) % cols)] = 1;
      const got = b.softmaxCrossEntropy(upload(logitsData, [rows, cols]), upload(labelsData, [rows, cols]));
      const want = reference.softmaxCrossEntropy(refUpload(logitsData, [rows, cols]), refUpload(labelsData, [rows, cols]));
      expect(got.loss.shape).toEqual([1]);
      expectClose(b.readSync(got.loss), want.loss.data);
      expectClose(b.readSync(got.dLogits), want.dLogits.data);
    });

    it('sgdUpdate consumes param and returns the update', () => {
      const b = open();
      const p = randomValues(14, 20);
      const gr = randomValues(15, 20);
      const param = upload(p, [4, 5]);
      const got = b.sgdUpdate(param, upload(gr, [4, 5]), { learningRate: 0.3 });
      const want = reference.sgdUpdate(refUpload(p, [4, 5]), refUpload(gr, [4, 5]), { learningRate: 0.3 });
      expectClose(b.readSync(got), want.data);
      expect(param.value).toBeNull();
    });
  });
}

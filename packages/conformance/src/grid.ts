import {
  createRandom,
  createReferenceBackend,
  geometryOf,
  flatIndex,
  LAYOUTS,
  runningAverageAttrs,
  type Layout,
  type ReferenceTensor,
  type SeededRandom,
  type VarianceCorrection,
} from '@batchnorm/core';
import type { CaseAttrs, ConformanceCase, KernelOp } from './types.js';

export type GridSize = 'quick' | 'full';

/** The grid's base seed; every case derives its own from its name, so subsets are stable. */
export const GRID_SEED = 20150211;

export const EPSILON = 1e-5;

interface ShapeSpec {
  readonly shape: readonly number[];
  /** Only in the full grid (the large shapes, and the new ranks' extra shapes). */
  readonly fullOnly?: boolean;
}

/**
 * Shapes per layout, in the layout's own order. The rank-2 and rank-4 layouts have m = 2, C = 1,
 * odd sizes, the paper's and one large shape. The rank-3 and rank-5 layouts run the same kernels
 * (which see the spatial axes only through their product and branch on channels-first/last),
 * so the quick grid takes two small shapes each, N = 1 with a spatial extent and N > 1, whose
 * last spatial axis is longer than 1 (a kernel that forgets an axis, as a rank-4 one would,
 * shows); the full grid adds C = 1 and a large shape. The quick ones are small enough to be
 * shipped in the vector file.
 */
export const GRID_SHAPES: Readonly<Record<Layout, readonly ShapeSpec[]>> = {
  NC: [
    { shape: [2, 3] },
    { shape: [5, 1] },
    { shape: [7, 13] },
    { shape: [60, 100] },
    { shape: [256, 1024], fullOnly: true },
  ],
  NCL: [
    { shape: [1, 3, 4] },
    { shape: [2, 3, 4] },
    { shape: [5, 1, 37], fullOnly: true },
    { shape: [16, 64, 100], fullOnly: true },
  ],
  NLC: [
    { shape: [1, 4, 3] },
    { shape: [2, 4, 3] },
    { shape: [5, 37, 1], fullOnly: true },
    { shape: [16, 100, 64], fullOnly: true },
  ],
  NCHW: [
    { shape: [1, 3, 1, 2] },
    { shape: [3, 1, 5, 7] },
    { shape: [2, 7, 3, 5] },
    { shape: [4, 8, 10, 10] },
    { shape: [8, 16, 28, 28], fullOnly: true },
  ],
  NHWC: [
    { shape: [1, 1, 2, 3] },
    { shape: [3, 5, 7, 1] },
    { shape: [2, 3, 5, 7] },
    { shape: [4, 10, 10, 8] },
    { shape: [8, 28, 28, 16], fullOnly: true },
  ],
  NCDHW: [
    { shape: [1, 2, 2, 1, 3] },
    { shape: [2, 3, 1, 2, 2] },
    { shape: [3, 1, 3, 5, 7], fullOnly: true },
    { shape: [4, 8, 8, 14, 14], fullOnly: true },
  ],
  NDHWC: [
    { shape: [1, 2, 1, 3, 2] },
    { shape: [2, 1, 2, 2, 3] },
    { shape: [3, 3, 5, 7, 1], fullOnly: true },
    { shape: [4, 8, 14, 14, 8], fullOnly: true },
  ],
};

/** Value regimes of the batch-norm cases; each name says what it probes. */
export const REGIMES = ['unit', 'offset1e3', 'offset1e4', 'tinyVariance', 'constantFeature', 'mixed'] as const;
export type Regime = (typeof REGIMES)[number];

const BATCH_NORM_GRID_OPS = ['forwardTraining', 'forwardInference', 'backward'] as const;

/** FNV-1a of a case name, mixed with the base seed. */
export function seedOf(name: string, base = GRID_SEED): number {
  let hash = 0x811c9dc5 ^ base;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const f32 = Math.fround;

function float32Array(length: number, value: (i: number) => number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = f32(value(i));
  return out;
}

interface FeatureDistribution {
  readonly offset: number;
  readonly scale: number;
}

function featureDistributions(regime: Regime, c: number, random: SeededRandom): FeatureDistribution[] {
  return Array.from({ length: c }, (_, k) => {
    switch (regime) {
      case 'unit':
        return { offset: 0, scale: 1 };
      case 'offset1e3':
        return { offset: 1e3, scale: 1 };
      case 'offset1e4':
        return { offset: 1e4, scale: 1 };
      case 'tinyVariance':
        // σ² = 1e-6 < ε = 1e-5: ε weighs in the normalization
        return { offset: 0.5, scale: 1e-3 };
      case 'constantFeature':
        // feature 0 has no variance at all: the output is decided by ε (and must be β)
        return k === 0 ? { offset: 3.25, scale: 0 } : { offset: 0, scale: 1 };
      case 'mixed': {
        const scale = 10 ** (4 * random.uniform() - 2);
        return { offset: (random.uniform() - 0.5) * 20 * scale, scale };
      }
    }
  });
}

/** `x` of geometry `shape` in `layout`, each feature from its distribution, float32-rounded. */
function batchInput(layout: Layout, shape: readonly number[], regime: Regime, random: SeededRandom) {
  const g = geometryOf(layout, shape);
  const features = featureDistributions(regime, g.c, random);
  const x = new Float64Array(g.size);
  for (let n = 0; n < g.n; n++) {
    for (let c = 0; c < g.c; c++) {
      const { offset, scale } = features[c]!;
      for (let s = 0; s < g.spatial; s++) x[flatIndex(g, n, c, s)] = f32(offset + scale * random.normal());
    }
  }
  return { g, x, features };
}

const reference = createReferenceBackend();

function run<T>(build: (upload: (data: Float64Array, shape: readonly number[]) => ReferenceTensor) => T): T {
  return build((data, shape) => reference.upload(data, shape));
}

function batchNormCase(
  op: (typeof BATCH_NORM_GRID_OPS)[number],
  layout: Layout,
  shape: readonly number[],
  regime: Regime,
): ConformanceCase {
  const name = `${op}/${layout}/${shape.join('x')}/${regime}`;
  const random = createRandom(seedOf(name));
  const { g, x, features } = batchInput(layout, shape, regime, random);
  const signs = regime === 'mixed';
  const gamma = float32Array(g.c, () =>
    signs ? (random.uniform() < 0.5 ? -1 : 1) * 10 ** (2 * random.uniform() - 1) : 1 + 0.5 * random.normal(),
  );
  const beta = float32Array(g.c, () => 0.5 * random.normal());
  const attrsBase = { layout, epsilon: EPSILON };
  return run((upload): ConformanceCase => {
    const xt = upload(x, shape);
    const gammaT = upload(gamma, [g.c]);
    const betaT = upload(beta, [g.c]);
    if (op === 'forwardInference') {
      // population statistics near the batch's, so the output is of order γ
      const runningMean = float32Array(g.c, (c) => features[c]!.offset + 0.1 * features[c]!.scale * random.normal());
      const runningVar = float32Array(g.c, (c) => features[c]!.scale ** 2 * (0.8 + 0.4 * random.uniform()));
      const y = reference.batchNormForwardInference(
        { x: xt, gamma: gammaT, beta: betaT, mean: upload(runningMean, [g.c]), variance: upload(runningVar, [g.c]) },
        attrsBase,
      );
      return {
        name,
        op,
        layout,
        shape,
        epsilon: EPSILON,
        inputs: { x, gamma, beta, runningMean, runningVar },
        expected: { y: y.data },
      };
    }
    const { y, mean, variance, saved } = reference.batchNormForwardTraining({ x: xt, gamma: gammaT, beta: betaT }, attrsBase);
    if (op === 'forwardTraining') {
      // vary the running-average attrs across cases, deterministically
      const momentum = [0.1, 0.3, 1, 0][seedOf(name) % 4]!;
      const varianceCorrection: VarianceCorrection = seedOf(name, 7) % 2 === 0 ? 'unbiased' : 'biased';
      const runningMeanIn = float32Array(g.c, () => random.normal());
      const runningVarIn = float32Array(g.c, () => 0.5 + random.uniform());
      const running = runningAverageAttrs(momentum, varianceCorrection, g.m);
      const runningMean = reference.runningAverage(
        { running: upload(runningMeanIn, [g.c]), batch: mean },
        running.mean,
      );
      const runningVar = reference.runningAverage(
        { running: upload(runningVarIn, [g.c]), batch: variance },
        running.variance,
      );
      return {
        name,
        op,
        layout,
        shape,
        epsilon: EPSILON,
        attrs: { momentum, varianceCorrection },
        inputs: { x, gamma, beta, runningMean: runningMeanIn, runningVar: runningVarIn },
        expected: {
          y: y.data,
          mean: mean.data,
          variance: variance.data,
          runningMean: runningMean.data,
          runningVar: runningVar.data,
        },
      };
    }
    const dy = float32Array(g.size, () =>
      signs ? random.normal() * 10 ** (2 * random.uniform() - 1) : random.normal(),
    );
    const { dx, dgamma, dbeta } = reference.batchNormBackward(
      { dy: upload(dy, shape), x: xt, gamma: gammaT, saved },
      attrsBase,
    );
    return {
      name,
      op,
      layout,
      shape,
      epsilon: EPSILON,
      inputs: { x, gamma, dy },
      expected: { dx: dx.data, dgamma: dgamma.data, dbeta: dbeta.data },
    };
  });
}

function kernelCase(
  op: KernelOp,
  label: string,
  inputs: Record<string, { data: Float64Array; shape: readonly number[] }>,
  attrs: CaseAttrs | undefined,
  compute: (t: Record<string, ReferenceTensor>) => Record<string, ReferenceTensor>,
): ConformanceCase {
  const tensors: Record<string, ReferenceTensor> = {};
  const values: Record<string, Float64Array> = {};
  const shapes: Record<string, readonly number[]> = {};
  for (const [key, { data, shape }] of Object.entries(inputs)) {
    tensors[key] = reference.upload(data, shape);
    values[key] = data;
    shapes[key] = shape;
  }
  const expected: Record<string, Float64Array> = {};
  for (const [key, t] of Object.entries(compute(tensors))) expected[key] = t.data;
  return {
    name: `${op}/${label}`,
    op,
    shape: Object.values(inputs)[0]!.shape,
    ...(attrs === undefined ? {} : { attrs }),
    inputs: values,
    shapes,
    expected,
  };
}

function normals(random: SeededRandom, length: number, scale = 1, offset = 0): Float64Array {
  return float32Array(length, () => offset + scale * random.normal());
}

function kernelCases(size: GridSize): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = (name: string): SeededRandom => createRandom(seedOf(name));

  const matMulShapes: [number, number, number, boolean?][] = [
    [1, 1, 1],
    [2, 3, 4],
    [7, 13, 5],
    [60, 100, 10],
    [60, 784, 100, true],
  ];
  for (const [m, k, n, large] of matMulShapes) {
    if (large === true && size === 'quick') continue;
    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const variant = transposeA ? (transposeB ? 'transposeAB' : 'transposeA') : transposeB ? 'transposeB' : 'plain';
      for (const regime of ['unit', 'mixed'] as const) {
        const label = `${m}x${k}x${n}/${variant}/${regime}`;
        const random = rng(`matMul/${label}`);
        const mixedValue = (): number =>
          regime === 'mixed' ? random.normal() * 10 ** (4 * random.uniform() - 2) : random.normal();
        const a = float32Array(m * k, mixedValue);
        const b = float32Array(k * n, mixedValue);
        cases.push(
          kernelCase(
            'matMul',
            label,
            { a: { data: a, shape: transposeA ? [k, m] : [m, k] }, b: { data: b, shape: transposeB ? [n, k] : [k, n] } },
            { transposeA, transposeB },
            (t) => ({ out: reference.matMul(t['a']!, t['b']!, { transposeA, transposeB }) }),
          ),
        );
      }
    }
  }

  const matrixShapes: [number, number, boolean?][] = [
    [1, 1],
    [7, 13],
    [60, 100],
    [256, 1024, true],
  ];
  for (const [rows, cols, large] of matrixShapes) {
    if (large === true && size === 'quick') continue;
    const dims = `${rows}x${cols}`;
    for (const regime of ['unit', 'offset1e3'] as const) {
      const offset = regime === 'offset1e3' ? 1e3 : 0;
      let random = rng(`addBias/${dims}/${regime}`);
      cases.push(
        kernelCase(
          'addBias',
          `${dims}/${regime}`,
          {
            x: { data: normals(random, rows * cols, 1, offset), shape: [rows, cols] },
            bias: { data: normals(random, cols), shape: [cols] },
          },
          undefined,
          (t) => ({ out: reference.addBias(t['x']!, t['bias']!) }),
        ),
      );
      random = rng(`sumRows/${dims}/${regime}`);
      cases.push(
        kernelCase(
          'sumRows',
          `${dims}/${regime}`,
          { x: { data: normals(random, rows * cols, 1, offset), shape: [rows, cols] } },
          undefined,
          (t) => ({ out: reference.sumRows(t['x']!) }),
        ),
      );
    }
    let random = rng(`sigmoid/${dims}`);
    cases.push(
      kernelCase('sigmoid', `${dims}/unit`, { x: { data: normals(random, rows * cols, 3), shape: [rows, cols] } }, undefined, (t) => ({
        out: reference.sigmoid(t['x']!),
      })),
    );
    random = rng(`sigmoidBackward/${dims}`);
    cases.push(
      kernelCase(
        'sigmoidBackward',
        `${dims}/unit`,
        {
          dy: { data: normals(random, rows * cols), shape: [rows, cols] },
          y: { data: float32Array(rows * cols, () => random.uniform()), shape: [rows, cols] },
        },
        undefined,
        (t) => ({ out: reference.sigmoidBackward(t['dy']!, t['y']!) }),
      ),
    );
    // a quarter of the inputs exactly zero: the ReLU's kink, where the gradient is 0 by convention
    const withZeros = (random: SeededRandom): Float64Array =>
      float32Array(rows * cols, () => (random.uniform() < 0.25 ? 0 : random.normal()));
    random = rng(`relu/${dims}`);
    cases.push(
      kernelCase('relu', `${dims}/withZeros`, { x: { data: withZeros(random), shape: [rows, cols] } }, undefined, (t) => ({
        out: reference.relu(t['x']!),
      })),
    );
    random = rng(`reluBackward/${dims}`);
    cases.push(
      kernelCase(
        'reluBackward',
        `${dims}/withZeros`,
        {
          dy: { data: normals(random, rows * cols), shape: [rows, cols] },
          x: { data: withZeros(random), shape: [rows, cols] },
        },
        undefined,
        (t) => ({ out: reference.reluBackward(t['dy']!, t['x']!) }),
      ),
    );
    random = rng(`sgdUpdate/${dims}`);
    cases.push(
      kernelCase(
        'sgdUpdate',
        `${dims}/lr0.5`,
        {
          param: { data: normals(random, rows * cols), shape: [rows, cols] },
          grad: { data: normals(random, rows * cols, 0.1), shape: [rows, cols] },
        },
        { learningRate: 0.5 },
        (t) => ({ out: reference.sgdUpdate(t['param']!, t['grad']!, { learningRate: 0.5 }) }),
      ),
    );
  }

  // saturating sigmoid inputs: exp must neither overflow nor lose 1 − y
  const saturating = Float64Array.from([-1000, -100, -88, -30, -10, -1, 0, 1, 10, 30, 88, 100, 1000, 1e-3, -1e-3, 0.5]);
  cases.push(
    kernelCase('sigmoid', '4x4/saturating', { x: { data: saturating, shape: [4, 4] } }, undefined, (t) => ({
      out: reference.sigmoid(t['x']!),
    })),
  );

  const softmaxShapes: [number, number][] = [
    [1, 2],
    [2, 3],
    [60, 10],
  ];
  for (const [rows, cols] of softmaxShapes) {
    for (const regime of ['oneHot', 'softLabels', 'largeLogits'] as const) {
      const label = `${rows}x${cols}/${regime}`;
      const random = rng(`softmaxCrossEntropy/${label}`);
      const logits = normals(random, rows * cols, regime === 'largeLogits' ? 1e3 : 2);
      const labels = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        if (regime === 'softLabels') {
          const weights = Array.from({ length: cols }, () => random.uniform() + 0.01);
          const total = weights.reduce((a, b) => a + b, 0);
          for (let k = 0; k < cols; k++) labels[r * cols + k] = f32(weights[k]! / total);
        } else {
          labels[r * cols + Math.floor(random.uniform() * cols)] = 1;
        }
      }
      cases.push(
        kernelCase(
          'softmaxCrossEntropy',
          label,
          { logits: { data: logits, shape: [rows, cols] }, labels: { data: labels, shape: [rows, cols] } },
          undefined,
          (t) => {
            const { loss, dLogits } = reference.softmaxCrossEntropy(t['logits']!, t['labels']!);
            return { loss, dLogits };
          },
        ),
      );
    }
  }

  for (const c of [1, 7, 100]) {
    for (const factor of [0, 0.1, 1]) {
      for (const correction of ['biased', 'unbiased'] as const) {
        const { batchScale } = runningAverageAttrs(factor, correction, 60).variance; // as for m = 60
        const label = `C${c}/factor${factor}/${correction}`;
        const random = rng(`runningAverage/${label}`);
        cases.push(
          kernelCase(
            'runningAverage',
            label,
            {
              running: { data: normals(random, c, 2, 1), shape: [c] },
              batch: { data: normals(random, c, 2, 1), shape: [c] },
            },
            { factor, batchScale },
            (t) => ({ out: reference.runningAverage({ running: t['running']!, batch: t['batch']! }, { factor, batchScale }) }),
          ),
        );
      }
    }
  }
  return cases;
}

/**
 * The seeded case grid: every batch-norm op × layout (all of core's `LAYOUTS`) × shape × value
 * regime, then the other kernels of the contract. Expected values come from core's float64
 * reference on float32-rounded inputs. `quick` leaves out the shapes marked `fullOnly`.
 */
export function buildGrid(size: GridSize = 'quick'): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const op of BATCH_NORM_GRID_OPS) {
    for (const layout of LAYOUTS) {
      for (const { shape, fullOnly } of GRID_SHAPES[layout]) {
        if (fullOnly === true && size === 'quick') continue;
        for (const regime of REGIMES) cases.push(batchNormCase(op, layout, shape, regime));
      }
    }
  }
  cases.push(...kernelCases(size));
  return cases;
}

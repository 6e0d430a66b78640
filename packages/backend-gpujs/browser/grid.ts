import {
  createRandom,
  createReferenceBackend,
  geometryOf,
  type Layout,
  type ReferenceTensor,
  type Shape,
  type TensorData,
} from '@batchnorm/core';
import type { GpuJsBackend } from '../src/index.js';
import type { GpuTensor } from '../src/tensor.js';

/**
 * A browser-safe case grid: every kernel of the contract against core's float64 reference,
 * on seeded inputs including a large offset (1e4 + N(0,1)) and a large m. It stands in for
 * @batchnorm/conformance's grid in the page.
 */
export interface GridCase {
  readonly name: string;
  run(backend: GpuJsBackend): string[];
}

const ATOL = 1e-4;
const RTOL = 1e-3;
const reference = createReferenceBackend();

function randomValues(seed: number, length: number, scale = 1, offset = 0): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length }, () => offset + scale * random.normal());
}

/** numpy's allclose; returns a failure message or nothing. */
function compare(name: string, got: ArrayLike<number>, want: ArrayLike<number>): string[] {
  if (got.length !== want.length) return [`${name}: length ${got.length} ≠ ${want.length}`];
  let failures = 0;
  let first = '';
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    if (!(error <= ATOL + RTOL * Math.abs(want[i]!))) {
      if (failures === 0) first = `[${i}] got ${got[i]}, want ${want[i]}`;
      failures++;
    }
  }
  return failures === 0 ? [] : [`${name}: ${failures} values off, first ${first}`];
}

class Pair {
  readonly created: GpuTensor[] = [];
  constructor(readonly backend: GpuJsBackend) {}
  both(data: Float32Array, shape: Shape): [GpuTensor, ReferenceTensor] {
    const t = this.backend.upload(data, shape);
    this.created.push(t);
    return [t, reference.upload(Float64Array.from(data), shape)];
  }
  read(t: GpuTensor): TensorData {
    this.created.push(t);
    return this.backend.readSync(t);
  }
  release(): void {
    for (const t of this.created) this.backend.dispose(t);
  }
}

function batchNormCase(name: string, layout: Layout, shape: Shape, offset: number): GridCase {
  return {
    name: `batch norm ${name} ${layout} [${shape.join(', ')}]`,
    run(backend) {
      const p = new Pair(backend);
      const g = geometryOf(layout, shape);
      const attrs = { layout, epsilon: 1e-5 };
      const [x, rx] = p.both(randomValues(1, g.size, 1, offset), shape);
      const [dy, rdy] = p.both(randomValues(2, g.size), shape);
      const [gamma, rgamma] = p.both(randomValues(3, g.c, 0.5, 1), [g.c]);
      const [beta, rbeta] = p.both(randomValues(4, g.c), [g.c]);
      const out = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
      const want = reference.batchNormForwardTraining({ x: rx, gamma: rgamma, beta: rbeta }, attrs);
      const mean = p.read(out.mean);
      const variance = p.read(out.variance);
      const grads = backend.batchNormBackward({ dy, x, gamma, mean: out.mean, variance: out.variance }, attrs);
      const wantGrads = reference.batchNormBackward(
        { dy: rdy, x: rx, gamma: rgamma, mean: want.mean, variance: want.variance },
        attrs,
      );
      const inferred = backend.batchNormForwardInference({ x, gamma, beta, mean: out.mean, variance: out.variance }, attrs);
      // Inference trusts its statistics: the reference gets the same float32 ones.
      const wantInferred = reference.batchNormForwardInference(
        {
          x: rx,
          gamma: rgamma,
          beta: rbeta,
          mean: reference.upload(Float64Array.from(mean), [g.c]),
          variance: reference.upload(Float64Array.from(variance), [g.c]),
        },
        attrs,
      );
      const failures = [
        ...compare('mean', mean, want.mean.data),
        ...compare('variance', variance, want.variance.data),
        ...compare('y', p.read(out.y), want.y.data),
        ...compare('inference y', p.read(inferred), wantInferred.data),
        ...compare('dx', p.read(grads.dx), wantGrads.dx.data),
        ...compare('dgamma', p.read(grads.dgamma), wantGrads.dgamma.data),
        ...compare('dbeta', p.read(grads.dbeta), wantGrads.dbeta.data),
      ];
      p.release();
      return failures;
    },
  };
}

const mlpCases: GridCase[] = [
  ...([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const).map(
    ([transposeA, transposeB]): GridCase => ({
      name: `matMul transposeA ${transposeA} transposeB ${transposeB}`,
      run(backend) {
        const p = new Pair(backend);
        const [m, k, n] = [13, 37, 9];
        const [a, ra] = p.both(randomValues(7, m * k), transposeA ? [k, m] : [m, k]);
        const [b, rb] = p.both(randomValues(8, k * n), transposeB ? [n, k] : [k, n]);
        const got = p.read(backend.matMul(a, b, { transposeA, transposeB }));
        const failures = compare('product', got, reference.matMul(ra, rb, { transposeA, transposeB }).data);
        p.release();
        return failures;
      },
    }),
  ),
  {
    name: 'addBias, sumRows, sigmoid, relu and their backward',
    run(backend) {
      const p = new Pair(backend);
      const [x, rx] = p.both(randomValues(9, 66, 4), [11, 6]);
      const [dy, rdy] = p.both(randomValues(10, 66), [11, 6]);
      const [bias, rbias] = p.both(randomValues(11, 6), [6]);
      const y = backend.sigmoid(x);
      const failures = [
        ...compare('addBias', p.read(backend.addBias(x, bias)), reference.addBias(rx, rbias).data),
        ...compare('sumRows', p.read(backend.sumRows(x)), reference.sumRows(rx).data),
        ...compare('sigmoid', p.read(y), reference.sigmoid(rx).data),
        ...compare('sigmoidBackward', p.read(backend.sigmoidBackward(dy, y)), reference.sigmoidBackward(rdy, reference.sigmoid(rx)).data),
        ...compare('relu', p.read(backend.relu(x)), reference.relu(rx).data),
        ...compare('reluBackward', p.read(backend.reluBackward(dy, x)), reference.reluBackward(rdy, rx).data),
      ];
      p.release();
      return failures;
    },
  },
  {
    name: 'softmaxCrossEntropy',
    run(backend) {
      const p = new Pair(backend);
      const [rows, cols] = [17, 10];
      const labelsData = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) labelsData[r * cols + ((r * 7) % cols)] = 1;
      const [logits, rlogits] = p.both(randomValues(13, rows * cols, 3), [rows, cols]);
      const [labels, rlabels] = p.both(labelsData, [rows, cols]);
      const got = backend.softmaxCrossEntropy(logits, labels);
      const want = reference.softmaxCrossEntropy(rlogits, rlabels);
      const failures = [
        ...compare('loss', p.read(got.loss), want.loss.data),
        ...compare('dLogits', p.read(got.dLogits), want.dLogits.data),
      ];
      p.release();
      return failures;
    },
  },
  {
    name: 'runningAverage and sgdUpdate',
    run(backend) {
      const p = new Pair(backend);
      const [running, rrunning] = p.both(randomValues(5, 7), [7]);
      const [batch, rbatch] = p.both(randomValues(6, 7), [7]);
      const attrs = { factor: 0.1, batchScale: 1.25 };
      const [param, rparam] = p.both(randomValues(14, 20), [4, 5]);
      const [grad, rgrad] = p.both(randomValues(15, 20), [4, 5]);
      const failures = [
        ...compare('runningAverage', p.read(backend.runningAverage({ running, batch }, attrs)), reference.runningAverage({ running: rrunning, batch: rbatch }, attrs).data),
        ...compare('sgdUpdate', p.read(backend.sgdUpdate(param, grad, { learningRate: 0.3 })), reference.sgdUpdate(rparam, rgrad, { learningRate: 0.3 }).data),
      ];
      p.release();
      return failures;
    },
  },
];

/** Moderate sizes: the page runs under SwiftShader, a software GPU. */
export const GRID: readonly GridCase[] = [
  batchNormCase('small', 'NC', [16, 8], 0),
  batchNormCase('m = 2', 'NC', [2, 3], 0),
  batchNormCase('maps', 'NCHW', [4, 3, 5, 5], 0.5),
  batchNormCase('maps', 'NHWC', [4, 5, 5, 3], -1),
  batchNormCase('large offset 1e4 + N(0,1)', 'NC', [2048, 8], 1e4),
  batchNormCase('large m = 8192, offset 1e4', 'NCHW', [8, 2, 32, 32], 1e4),
  batchNormCase('large m = 4096', 'NHWC', [4, 32, 32, 3], 3),
  ...mlpCases,
];

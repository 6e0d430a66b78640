import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareClose, fromNchw, reference, shapeIn, tensor, toNchw, values } from './__tests__/helpers.js';
import { BatchNorm } from './BatchNorm.js';
import { geometryOf } from './layout.js';
import type { ReferenceTensor } from './reference/tensor.js';
import type { Layout, VarianceCorrection } from './types.js';

/**
 * The reference against vectors from implementations nobody here wrote (PyTorch, ONNX Runtime),
 * schema `batchnorm-vectors/1`. The file lives in `shared/vectors/` beside the repository clone;
 * BATCHNORM_VECTORS may point at another file.
 */
const VECTOR_FILE = 'pytorch-onnxruntime-sample.json';

function locateVectors(): string {
  const override = process.env['BATCHNORM_VECTORS'];
  if (override !== undefined && override !== '') {
    if (!existsSync(override)) throw new Error(`BATCHNORM_VECTORS=${override}: no such file`);
    return override;
  }
  const tried: string[] = [];
  // Walk up from this package: the clone may sit at any depth with shared/ beside it.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'vectors', VECTOR_FILE);
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `Test vectors ${VECTOR_FILE} not found. Expected shared/vectors/ beside the repository clone ` +
      `(e.g. /work/shared next to /work/main), or set BATCHNORM_VECTORS. Tried:\n  ${tried.join('\n  ')}`,
  );
}

interface VectorCase {
  readonly name: string;
  readonly op: 'forwardTraining' | 'forwardInference' | 'backward';
  readonly layout: Layout;
  readonly shape: number[];
  readonly epsilon: number;
  readonly attrs?: { readonly momentum: number; readonly varianceCorrection?: VarianceCorrection };
  readonly inputs: Readonly<Record<string, number[]>>;
  readonly expected: Readonly<Record<string, number[]>>;
  readonly tolerance: { readonly atol: number; readonly rtol: number };
}

const path = locateVectors();
const file = JSON.parse(readFileSync(path, 'utf8')) as { schema: string; cases: VectorCase[] };

/** Worst |got − want| per array over every case, for the record. */
const worst = new Map<string, number>();

function input(c: VectorCase, key: string): number[] {
  const value = c.inputs[key];
  if (value === undefined) throw new Error(`case ${c.name}: inputs.${key} is missing`);
  return value;
}

function check(c: VectorCase, key: string, got: ArrayLike<number>): void {
  const want = c.expected[key];
  expect(want, `case ${c.name}: expected.${key}`).toBeDefined();
  const result = compareClose(got, want!, c.tolerance.atol, c.tolerance.rtol);
  // keyed by source (the name's first word: pytorch, onnxruntime) and array
  const label = `${c.name.split('_')[0]} ${c.op}.${key}`;
  worst.set(label, Math.max(worst.get(label) ?? 0, result.maxAbsError));
  expect(
    result.firstFailure,
    `${c.name}: ${key} has ${result.failures} values outside atol ${c.tolerance.atol} + rtol ${c.tolerance.rtol}`,
  ).toBeUndefined();
}

/** A layer state holding the case's γ, β and running statistics (defaults where a case has none). */
function stateFor(c: VectorCase, numFeatures: number) {
  const ones = new Array<number>(numFeatures).fill(1);
  const zeros = new Array<number>(numFeatures).fill(0);
  return {
    schema: 'batchnorm-state/1' as const,
    numFeatures,
    layout: c.layout,
    epsilon: c.epsilon,
    momentum: c.attrs?.momentum ?? 0.1,
    varianceCorrection: c.attrs?.varianceCorrection ?? ('unbiased' as const),
    gamma: input(c, 'gamma'),
    // a backward case has no β or running statistics: they do not enter dx, dγ, dβ
    beta: c.inputs['beta'] ?? zeros,
    runningMean: c.inputs['runningMean'] ?? zeros,
    runningVar: c.inputs['runningVar'] ?? ones,
    numBatchesTracked: 0,
  };
}

describe(`vectors ${VECTOR_FILE}`, () => {
  it('is schema batchnorm-vectors/1 and covers every op', () => {
    expect(file.schema).toBe('batchnorm-vectors/1');
    expect(new Set(file.cases.map((c) => c.op))).toEqual(
      new Set(['forwardTraining', 'forwardInference', 'backward']),
    );
  });

  it.each(file.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const g = geometryOf(c.layout, c.shape);
    const x = tensor(input(c, 'x'), c.shape);
    const gamma = tensor(input(c, 'gamma'), [g.c]);
    const attrs = { layout: c.layout, epsilon: c.epsilon };
    switch (c.op) {
      case 'forwardTraining': {
        expect(c.attrs, `${c.name}: attrs are required for forwardTraining`).toBeDefined();
        // batch statistics from the kernel; y and the running update through the layer
        const kernel = reference.batchNormForwardTraining({ x, gamma, beta: tensor(input(c, 'beta'), [g.c]) }, attrs);
        check(c, 'mean', values(kernel.mean));
        check(c, 'variance', values(kernel.variance));
        const layer = new BatchNorm(reference, {
          numFeatures: g.c,
          layout: c.layout,
          momentum: c.attrs!.momentum,
          varianceCorrection: c.attrs!.varianceCorrection ?? 'unbiased',
        });
        layer.load(stateFor(c, g.c));
        const y = layer.forward(x);
        check(c, 'y', values(y));
        expect(values(y)).toEqual(values(kernel.y));
        const state = layer.stateSync();
        check(c, 'runningMean', state.runningMean);
        check(c, 'runningVar', state.runningVar);
        expect(state.numBatchesTracked).toBe(1);
        break;
      }
      case 'forwardInference': {
        const layer = new BatchNorm(reference, { numFeatures: g.c, layout: c.layout });
        layer.load(stateFor(c, g.c));
        layer.eval();
        check(c, 'y', values(layer.forward(x)));
        const kernel = reference.batchNormForwardInference(
          {
            x,
            gamma,
            beta: tensor(input(c, 'beta'), [g.c]),
            mean: tensor(input(c, 'runningMean'), [g.c]),
            variance: tensor(input(c, 'runningVar'), [g.c]),
          },
          attrs,
        );
        check(c, 'y', values(kernel));
        break;
      }
      case 'backward': {
        const layer = new BatchNorm(reference, { numFeatures: g.c, layout: c.layout, epsilon: c.epsilon });
        layer.load(stateFor(c, g.c));
        layer.forward(x);
        const dx = layer.backward(tensor(input(c, 'dy'), c.shape));
        check(c, 'dx', values(dx));
        check(c, 'dgamma', values(layer.gradients!.gamma));
        check(c, 'dbeta', values(layer.gradients!.beta));
        // and the kernel alone, with the statistics of its own training forward
        const beta = tensor(new Array<number>(g.c).fill(0), [g.c]);
        const { saved } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
        const kernel = reference.batchNormBackward(
          { dy: tensor(input(c, 'dy'), c.shape), x, gamma, saved },
          attrs,
        );
        check(c, 'dx', values(kernel.dx));
        check(c, 'dgamma', values(kernel.dgamma));
        check(c, 'dbeta', values(kernel.dbeta));
        break;
      }
    }
  });

  // The vectors are NCHW: the same cases rearranged to NHWC and to NC (NHWC read as [N·H·W, C])
  // check the other layouts against PyTorch too.
  const nchwCases = file.cases.filter((c) => c.layout === 'NCHW');
  it.each(
    nchwCases.flatMap((c) => (['NHWC', 'NC'] as const).map((layout) => [c.name, layout, c] as const)),
  )('%s rearranged to %s', (_name, layout, c) => {
    const [n = 1, ch = 1, h = 1, w = 1] = c.shape;
    const shape = shapeIn(layout, n, ch, h, w);
    const rearrange = (data: number[]) => tensor(fromNchw(layout, data, n, ch, h, w), shape);
    const back = (t: ReferenceTensor) => toNchw(layout, t.data, n, ch, h, w);
    const attrs = { layout, epsilon: c.epsilon };
    const x = rearrange(input(c, 'x'));
    const gamma = tensor(input(c, 'gamma'), [ch]);
    if (c.op === 'forwardTraining') {
      const layer = new BatchNorm(reference, {
        numFeatures: ch,
        layout,
        momentum: c.attrs!.momentum,
        varianceCorrection: c.attrs!.varianceCorrection ?? 'unbiased',
      });
      layer.load({ ...stateFor(c, ch), layout });
      check(c, 'y', back(layer.forward(x)));
      check(c, 'runningMean', layer.stateSync().runningMean);
      check(c, 'runningVar', layer.stateSync().runningVar);
      const kernel = reference.batchNormForwardTraining({ x, gamma, beta: tensor(input(c, 'beta'), [ch]) }, attrs);
      check(c, 'mean', values(kernel.mean));
      check(c, 'variance', values(kernel.variance));
    } else if (c.op === 'forwardInference') {
      const y = reference.batchNormForwardInference(
        {
          x,
          gamma,
          beta: tensor(input(c, 'beta'), [ch]),
          mean: tensor(input(c, 'runningMean'), [ch]),
          variance: tensor(input(c, 'runningVar'), [ch]),
        },
        attrs,
      );
      check(c, 'y', back(y));
    } else {
      const beta = tensor(new Array<number>(ch).fill(0), [ch]);
      const { saved } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
      const grads = reference.batchNormBackward({ dy: rearrange(input(c, 'dy')), x, gamma, saved }, attrs);
      check(c, 'dx', back(grads.dx));
      check(c, 'dgamma', values(grads.dgamma));
      check(c, 'dbeta', values(grads.dbeta));
    }
  });

  it('reports the worst absolute errors', () => {
    expect(worst.size).toBeGreaterThan(0);
    const lines = [...worst].map(([key, error]) => `${key} ${error.toExponential(2)}`);
    console.info(`reference vs ${VECTOR_FILE}, max |error|: ${lines.join(', ')}`);
  });
});

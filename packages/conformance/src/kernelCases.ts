import { createRandom, runningAverageAttrs, type ReferenceTensor, type SeededRandom } from '@batchnorm/core';
import { f32, float32Array, normals, reference, seedOf } from './gridValues.js';
import type { GridSize } from './grid.js';
import type { CaseAttrs, ConformanceCase, KernelOp } from './types.js';

type HostInput = { readonly data: Float64Array; readonly shape: readonly number[] };

/**
 * A case of a kernel other than batch norm, named `op/label`: its inputs with their shapes, and
 * what the reference computes from them (one tensor is the output `out`).
 */
function kernelCase(
  op: KernelOp,
  label: string,
  inputs: Record<string, HostInput>,
  attrs: CaseAttrs | undefined,
  compute: (t: Record<string, ReferenceTensor>) => ReferenceTensor | Record<string, ReferenceTensor>,
): ConformanceCase {
  const tensors: Record<string, ReferenceTensor> = {};
  const values: Record<string, Float64Array> = {};
  const shapes: Record<string, readonly number[]> = {};
  for (const [key, { data, shape }] of Object.entries(inputs)) {
    tensors[key] = reference.upload(data, shape);
    values[key] = data;
    shapes[key] = shape;
  }
  const result = compute(tensors);
  const outputs = 'data' in result ? { out: result as ReferenceTensor } : (result as Record<string, ReferenceTensor>);
  const expected: Record<string, Float64Array> = {};
  for (const [key, t] of Object.entries(outputs)) expected[key] = t.data;
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

const rng = (name: string): SeededRandom => createRandom(seedOf(name));

function matMulCases(size: GridSize): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const shapes: [number, number, number, boolean?][] = [[1, 1, 1], [2, 3, 4], [7, 13, 5], [60, 100, 10], [60, 784, 100, true]];
  for (const [m, k, n, large] of shapes) {
    if (large === true && size === 'quick') continue;
    for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const variant = transposeA ? (transposeB ? 'transposeAB' : 'transposeA') : transposeB ? 'transposeB' : 'plain';
      for (const regime of ['unit', 'mixed'] as const) {
        const label = `${m}x${k}x${n}/${variant}/${regime}`;
        const random = rng(`matMul/${label}`);
        const value = (): number => (regime === 'mixed' ? random.normal() * 10 ** (4 * random.uniform() - 2) : random.normal());
        const a = { data: float32Array(m * k, value), shape: transposeA ? [k, m] : [m, k] };
        const b = { data: float32Array(k * n, value), shape: transposeB ? [n, k] : [k, n] };
        const attrs = { transposeA, transposeB };
        cases.push(kernelCase('matMul', label, { a, b }, attrs, (t) => reference.matMul(t['a']!, t['b']!, attrs)));
      }
    }
  }
  return cases;
}

/** The element-wise and row kernels on one `rows × cols` matrix. */
function matrixCases(rows: number, cols: number): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const dims = `${rows}x${cols}`;
  const matrix = (data: Float64Array): HostInput => ({ data, shape: [rows, cols] });
  for (const regime of ['unit', 'offset1e3'] as const) {
    const offset = regime === 'offset1e3' ? 1e3 : 0;
    let random = rng(`addBias/${dims}/${regime}`);
    const x = matrix(normals(random, rows * cols, 1, offset));
    const bias = { data: normals(random, cols), shape: [cols] };
    cases.push(kernelCase('addBias', `${dims}/${regime}`, { x, bias }, undefined, (t) => reference.addBias(t['x']!, t['bias']!)));
    random = rng(`sumRows/${dims}/${regime}`);
    const rowsInput = { x: matrix(normals(random, rows * cols, 1, offset)) };
    cases.push(kernelCase('sumRows', `${dims}/${regime}`, rowsInput, undefined, (t) => reference.sumRows(t['x']!)));
  }
  let random = rng(`sigmoid/${dims}`);
  cases.push(kernelCase('sigmoid', `${dims}/unit`, { x: matrix(normals(random, rows * cols, 3)) }, undefined, (t) => reference.sigmoid(t['x']!)));
  random = rng(`sigmoidBackward/${dims}`);
  const sigmoidInputs = { dy: matrix(normals(random, rows * cols)), y: matrix(float32Array(rows * cols, () => random.uniform())) };
  cases.push(kernelCase('sigmoidBackward', `${dims}/unit`, sigmoidInputs, undefined, (t) => reference.sigmoidBackward(t['dy']!, t['y']!)));
  // a quarter of the inputs exactly zero: the ReLU's kink, where the gradient is 0 by convention
  const withZeros = (r: SeededRandom): HostInput => matrix(float32Array(rows * cols, () => (r.uniform() < 0.25 ? 0 : r.normal())));
  random = rng(`relu/${dims}`);
  cases.push(kernelCase('relu', `${dims}/withZeros`, { x: withZeros(random) }, undefined, (t) => reference.relu(t['x']!)));
  random = rng(`reluBackward/${dims}`);
  const reluInputs = { dy: matrix(normals(random, rows * cols)), x: withZeros(random) };
  cases.push(kernelCase('reluBackward', `${dims}/withZeros`, reluInputs, undefined, (t) => reference.reluBackward(t['dy']!, t['x']!)));
  random = rng(`sgdUpdate/${dims}`);
  const sgdInputs = { param: matrix(normals(random, rows * cols)), grad: matrix(normals(random, rows * cols, 0.1)) };
  const sgdAttrs = { learningRate: 0.5 };
  cases.push(kernelCase('sgdUpdate', `${dims}/lr0.5`, sgdInputs, sgdAttrs, (t) => reference.sgdUpdate(t['param']!, t['grad']!, sgdAttrs)));
  return cases;
}

function softmaxCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const [rows, cols] of [[1, 2], [2, 3], [60, 10]] as const) {
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
      const inputs = { logits: { data: logits, shape: [rows, cols] }, labels: { data: labels, shape: [rows, cols] } };
      cases.push(
        kernelCase('softmaxCrossEntropy', label, inputs, undefined, (t) => {
          const { loss, dLogits } = reference.softmaxCrossEntropy(t['logits']!, t['labels']!);
          return { loss, dLogits };
        }),
      );
    }
  }
  return cases;
}

function runningAverageCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const c of [1, 7, 100]) {
    for (const factor of [0, 0.1, 1]) {
      for (const correction of ['biased', 'unbiased'] as const) {
        const { batchScale } = runningAverageAttrs(factor, correction, 60).variance; // as for m = 60
        const label = `C${c}/factor${factor}/${correction}`;
        const random = rng(`runningAverage/${label}`);
        const running = { data: normals(random, c, 2, 1), shape: [c] };
        const batch = { data: normals(random, c, 2, 1), shape: [c] };
        const attrs = { factor, batchScale };
        cases.push(kernelCase('runningAverage', label, { running, batch }, attrs, (t) => reference.runningAverage({ running: t['running']!, batch: t['batch']! }, attrs)));
      }
    }
  }
  return cases;
}

/** The cases of every kernel of the contract other than batch norm, in the grid's order. */
export function kernelCases(size: GridSize): ConformanceCase[] {
  const cases = matMulCases(size);
  const matrixShapes: [number, number, boolean?][] = [[1, 1], [7, 13], [60, 100], [256, 1024, true]];
  for (const [rows, cols, large] of matrixShapes) {
    if (large === true && size === 'quick') continue;
    cases.push(...matrixCases(rows, cols));
  }
  // saturating sigmoid inputs: exp must neither overflow nor lose 1 − y
  const saturating = Float64Array.from([-1000, -100, -88, -30, -10, -1, 0, 1, 10, 30, 88, 100, 1000, 1e-3, -1e-3, 0.5]);
  cases.push(kernelCase('sigmoid', '4x4/saturating', { x: { data: saturating, shape: [4, 4] } }, undefined, (t) => reference.sigmoid(t['x']!)));
  cases.push(...softmaxCases(), ...runningAverageCases());
  return cases;
}

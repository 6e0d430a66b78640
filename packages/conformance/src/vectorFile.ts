import { BatchNormError, geometryOf } from '@batchnorm/core';
import { brief } from './brief.js';
import { checkCase, checkFile, NON_FINITE, OP_SPECS, VECTOR_SCHEMA, type RawCase } from './vectorSchema.js';
import type { ConformanceCase, Tolerance } from './types.js';

export { VECTOR_SCHEMA } from './vectorSchema.js';

/** Where in a vector file a problem is: the case (index and name), the field, the file's path. */
export interface VectorFileErrorOptions {
  readonly caseIndex?: number;
  readonly caseName?: string;
  readonly field?: string;
  readonly path?: string;
}

/** A malformed vector file; the message names the case (index and name) and the field. */
export class VectorFileError extends Error {
  override readonly name = 'VectorFileError';
  declare readonly caseIndex?: number;
  declare readonly caseName?: string;
  declare readonly field?: string;
  declare readonly path?: string;
  constructor(message: string, options: VectorFileErrorOptions = {}) {
    super(message);
    // only the keys given, so `toMatchObject` and spreads see what was said
    if (options.caseIndex !== undefined) this.caseIndex = options.caseIndex;
    if (options.caseName !== undefined) this.caseName = options.caseName;
    if (options.field !== undefined) this.field = options.field;
    if (options.path !== undefined) this.path = options.path;
  }
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws the case's `VectorFileError` for `field`. */
type Fail = (field: string, problem: string) => never;

function values(raw: readonly unknown[], field: string, length: number, note: string, fail: Fail): Float64Array {
  if (raw.length !== length) fail(field, `has ${raw.length} values, expected ${length} ${note}`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const x = raw[i];
    if (typeof x === 'number') out[i] = x;
    else if (typeof x === 'string' && Object.hasOwn(NON_FINITE, x)) out[i] = NON_FINITE[x]!;
    else fail(`${field}[${i}]`, `must be a number (or "NaN", "Infinity", "-Infinity"), got ${brief(x)}`);
  }
  return out;
}

function numberAttr(c: RawCase, key: string, check: (v: number) => boolean, expectation: string, required: boolean, fail: Fail): void {
  const value = c.attrs?.[key];
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !check(value)) fail(`attrs.${key}`, `must be ${expectation}, got ${brief(value)}`);
}

/** A batch-norm case: lengths from the layout's geometry, the running-average attrs. */
function batchNormCase(c: RawCase, fail: Fail) {
  const shape = c.shape!;
  let channels: number;
  try {
    channels = geometryOf(c.layout!, shape).c;
  } catch (error) {
    fail('shape', error instanceof BatchNormError ? `${shapeText(shape)}: expected ${error.expected}` : String(error));
  }
  const size = product(shape);
  const lengthOf = (key: string): number => (key === 'x' || key === 'dy' || key === 'y' || key === 'dx' ? size : channels);
  const note = (key: string): string =>
    lengthOf(key) === size ? `for shape ${shapeText(shape)}` : `(C = ${channels} for shape ${shapeText(shape)} in ${c.layout})`;
  const read = (group: 'inputs' | 'expected') =>
    Object.fromEntries(Object.entries(c[group]).map(([key, raw]) => [key, values(raw, `${group}.${key}`, lengthOf(key), note(key), fail)]));
  const inputs = read('inputs');
  const expected = read('expected');
  if (c.op === 'forwardTraining' && (expected['runningMean'] !== undefined || expected['runningVar'] !== undefined)) {
    if (c.attrs === undefined) fail('attrs', 'is required when expected holds running statistics ({ momentum, varianceCorrection })');
    numberAttr(c, 'momentum', (m) => m >= 0 && m <= 1, 'a number in [0, 1] (weight of the new batch statistic)', true, fail);
    const vc = c.attrs['varianceCorrection'];
    if (vc !== undefined && vc !== 'unbiased' && vc !== 'biased') fail('attrs.varianceCorrection', `must be "unbiased" or "biased", got ${brief(vc)}`);
    for (const key of ['runningMean', 'runningVar']) {
      if (inputs[key] === undefined) fail(`inputs.${key}`, 'is missing (needed for the expected running statistics)');
    }
  }
  return { shape, inputs, expected };
}

/** A kernel case: lengths from `shapes`, the output lengths from the op, the attrs. */
function kernelCase(c: RawCase, fail: Fail) {
  const shapes = c.shapes!;
  const inputs: Record<string, Float64Array> = {};
  for (const [key, s] of Object.entries(shapes)) inputs[key] = values(c.inputs[key]!, `inputs.${key}`, product(s), `for shape ${shapeText(s)}`, fail);
  const lengths = kernelOutputLengths(c, shapes, fail);
  const expected = Object.fromEntries(
    Object.entries(c.expected).map(([key, raw]) => [key, values(raw, `expected.${key}`, lengths[key]!, `for the inputs' shapes`, fail)]),
  );
  if (c.op === 'runningAverage') {
    numberAttr(c, 'factor', (f) => f >= 0 && f <= 1, 'a number in [0, 1]', true, fail);
    numberAttr(c, 'batchScale', (b) => Number.isFinite(b) && b > 0, 'a finite number > 0', false, fail);
  }
  if (c.op === 'sgdUpdate') numberAttr(c, 'learningRate', Number.isFinite, 'a finite number', true, fail);
  if (c.op === 'matMul') {
    for (const key of ['transposeA', 'transposeB']) {
      const t = c.attrs?.[key];
      if (t !== undefined && typeof t !== 'boolean') fail(`attrs.${key}`, `must be true or false, got ${brief(t)}`);
    }
  }
  return { shape: shapes[OP_SPECS[c.op].required[0]!]!, inputs, expected };
}

function kernelOutputLengths(c: RawCase, shapes: Record<string, number[]>, fail: Fail): Record<string, number> {
  const rank2 = (key: string): [number, number] => {
    const s = shapes[key]!;
    if (s.length !== 2) fail(`shapes.${key}`, `must be a matrix [rows, cols], got ${shapeText(s)}`);
    return [s[0]!, s[1]!];
  };
  const same = (a: string, b: string): number => {
    if (shapeText(shapes[a]!) !== shapeText(shapes[b]!)) fail(`shapes.${b}`, `must equal shapes.${a} ${shapeText(shapes[a]!)}, got ${shapeText(shapes[b]!)}`);
    return product(shapes[a]!);
  };
  switch (c.op) {
    case 'matMul': {
      const [ar, ac] = rank2('a');
      const [br, bc] = rank2('b');
      const ta = c.attrs?.['transposeA'] === true;
      const tb = c.attrs?.['transposeB'] === true;
      const [k1, k2] = [ta ? ar : ac, tb ? bc : br];
      if (k1 !== k2) fail('shapes.b', `inner dimension ${k2} does not match a's ${k1} (transposeA ${ta}, transposeB ${tb})`);
      return { out: (ta ? ac : ar) * (tb ? br : bc) };
    }
    case 'addBias': {
      const [, cols] = rank2('x');
      if (product(shapes['bias']!) !== cols) fail('shapes.bias', `must hold ${cols} values (x's columns), got ${shapeText(shapes['bias']!)}`);
      return { out: product(shapes['x']!) };
    }
    case 'sumRows':
      return { out: rank2('x')[1] };
    case 'softmaxCrossEntropy':
      rank2('logits');
      return { loss: 1, dLogits: same('logits', 'labels') };
    case 'runningAverage':
      return { out: same('running', 'batch') };
    case 'sigmoidBackward':
      return { out: same('dy', 'y') };
    case 'reluBackward':
      return { out: same('dy', 'x') };
    case 'sgdUpdate':
      return { out: same('param', 'grad') };
    default:
      return { out: product(Object.values(shapes)[0]!) };
  }
}

function readCase(raw: unknown, index: number, path: string | undefined): ConformanceCase {
  const name = typeof (raw as { name?: unknown } | null)?.name === 'string' ? (raw as { name: string }).name : undefined;
  const where = `${path === undefined ? '' : `${path}: `}cases[${index}]${name === undefined ? '' : ` ${JSON.stringify(name)}`}`;
  const fail: Fail = (field, problem) => {
    throw new VectorFileError(`${where}: ${field} ${problem}`, { caseIndex: index, ...(name === undefined ? {} : { caseName: name }), field, ...(path === undefined ? {} : { path }) });
  };
  const checked = checkCase(raw);
  if (!('value' in checked)) fail(checked.field, checked.problem);
  const c = checked.value;
  const { shape, inputs, expected } = c.layout === undefined ? kernelCase(c, fail) : batchNormCase(c, fail);
  return {
    name: c.name,
    op: c.op,
    ...(c.layout === undefined ? {} : { layout: c.layout }),
    shape,
    ...(c.epsilon === undefined ? {} : { epsilon: c.epsilon }),
    ...(c.attrs === undefined ? {} : { attrs: c.attrs }),
    inputs,
    ...(c.shapes === undefined ? {} : { shapes: c.shapes }),
    expected,
    ...(c.tolerance === undefined ? {} : { tolerance: c.tolerance as Tolerance }),
    ...(c.outputTolerance === undefined ? {} : { outputTolerance: c.outputTolerance }),
  };
}

/** Validates a parsed vector file strictly; throws a `VectorFileError` naming the case and field. */
export function parseVectorFile(json: unknown, path?: string): ConformanceCase[] {
  const where = path === undefined ? '' : `${path}: `;
  const file = checkFile(json);
  if (!('value' in file)) {
    const message = file.field === '' ? file.problem : `${file.field} ${file.problem}`;
    throw new VectorFileError(`${where}${message}`, { ...(file.field === '' ? {} : { field: file.field }), ...(path === undefined ? {} : { path }) });
  }
  const names = new Set<string>();
  return file.value.cases.map((raw, index) => {
    const parsed = readCase(raw, index, path);
    if (names.has(parsed.name)) {
      throw new VectorFileError(`${where}cases[${index}] ${JSON.stringify(parsed.name)}: name is used by an earlier case`, {
        caseIndex: index,
        caseName: parsed.name,
        field: 'name',
        ...(path === undefined ? {} : { path }),
      });
    }
    names.add(parsed.name);
    return parsed;
  });
}

/**
 * Inputs are written exactly (the shortest decimal of the double): a shorter decimal that only
 * rounds to the same float32 would hand a float64 reader different inputs (at 1e4 + N(0,1), half
 * a float32 ulp is 5e-4, which moves the variance by 1e-4).
 */
function inputText(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function expectedText(value: number): number | string {
  return Number.isFinite(value) ? Number(value.toPrecision(10)) : String(value);
}

/**
 * A vector file in `batchnorm-vectors/1`: inputs exactly, expected values
 * to 10 significant digits (far below any float32 tolerance), one case per line.
 */
export function serializeVectorFile(cases: readonly ConformanceCase[], description?: string): string {
  const lines = cases.map((c) => {
    const record = (values: Readonly<Record<string, Float64Array>>, format: (v: number) => number | string) =>
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.from(v, format)]));
    return JSON.stringify({
      name: c.name,
      op: c.op,
      ...(c.layout === undefined ? {} : { layout: c.layout }),
      ...(c.shapes === undefined ? { shape: c.shape } : {}),
      ...(c.epsilon === undefined ? {} : { epsilon: c.epsilon }),
      ...(c.attrs === undefined ? {} : { attrs: c.attrs }),
      ...(c.shapes === undefined ? {} : { shapes: c.shapes }),
      inputs: record(c.inputs, inputText),
      expected: record(c.expected, expectedText),
      ...(c.tolerance === undefined ? {} : { tolerance: c.tolerance }),
      ...(c.outputTolerance === undefined ? {} : { outputTolerance: c.outputTolerance }),
    });
  });
  const head = description === undefined ? '' : `"description": ${JSON.stringify(description)},\n`;
  return `{"schema": "${VECTOR_SCHEMA}",\n${head}"cases": [\n${lines.join(',\n')}\n]}\n`;
}

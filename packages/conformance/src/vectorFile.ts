import { BatchNormError, geometryOf, LAYOUTS, type Layout } from '@batchnorm/core';
import { BATCH_NORM_OPS, KERNEL_OPS, type CaseOp, type ConformanceCase, type Tolerance } from './types.js';

/**
 * The public schema of vector files. Batch-norm cases name their layout by its letters, one of
 * core's `LAYOUTS` (`NC`, `NCL`, `NLC`, `NCHW`, `NHWC`, `NCDHW`, `NDHWC`), with `shape` in that
 * layout's own order and of its rank. The rank-3 and rank-5 names were added without a new
 * schema name: every file valid before (`NC`, `NCHW`, `NHWC` only) is valid as it was.
 */
export const VECTOR_SCHEMA = 'batchnorm-vectors/1';

/** A malformed vector file; the message names the case (index and name) and the field. */
export class VectorFileError extends Error {
  override readonly name = 'VectorFileError';
  constructor(
    message: string,
    readonly caseIndex?: number,
    readonly caseName?: string,
    readonly field?: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

interface InputSpec {
  readonly required: readonly string[];
  readonly optional?: readonly string[];
  /** Output names and their lengths, given the input shapes. */
  readonly outputs: readonly string[];
}

const BATCH_NORM_SPECS: Record<(typeof BATCH_NORM_OPS)[number], InputSpec> = {
  forwardTraining: {
    required: ['x', 'gamma', 'beta'],
    optional: ['runningMean', 'runningVar'],
    outputs: ['y', 'mean', 'variance', 'runningMean', 'runningVar'],
  },
  forwardInference: { required: ['x', 'gamma', 'beta', 'runningMean', 'runningVar'], outputs: ['y'] },
  backward: { required: ['x', 'gamma', 'dy'], optional: ['beta'], outputs: ['dx', 'dgamma', 'dbeta'] },
};

const KERNEL_SPECS: Record<(typeof KERNEL_OPS)[number], InputSpec> = {
  runningAverage: { required: ['running', 'batch'], outputs: ['out'] },
  matMul: { required: ['a', 'b'], outputs: ['out'] },
  addBias: { required: ['x', 'bias'], outputs: ['out'] },
  sumRows: { required: ['x'], outputs: ['out'] },
  sigmoid: { required: ['x'], outputs: ['out'] },
  sigmoidBackward: { required: ['dy', 'y'], outputs: ['out'] },
  relu: { required: ['x'], outputs: ['out'] },
  reluBackward: { required: ['dy', 'x'], outputs: ['out'] },
  softmaxCrossEntropy: { required: ['logits', 'labels'], outputs: ['loss', 'dLogits'] },
  sgdUpdate: { required: ['param', 'grad'], outputs: ['out'] },
};

const CASE_FIELDS = new Set([
  'name',
  'op',
  'layout',
  'shape',
  'epsilon',
  'attrs',
  'inputs',
  'shapes',
  'expected',
  'tolerance',
  'outputTolerance',
  'description',
]);

/** JSON has no NaN or infinities: a file may spell them as these strings. */
const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BRIEF_LENGTH = 60;
const BRIEF_DEPTH = 4;

/**
 * `value` for a message: its JSON, cut at 60 characters and 4 levels. Written out here rather than
 * by `JSON.stringify`, which overflows the stack on a value nested 10⁵ deep, throws on a cycle or
 * a bigint, and writes a long array whole before it could be cut.
 */
function brief(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text = '';
  const full = (): boolean => text.length > BRIEF_LENGTH;
  const write = (v: unknown, depth: number): void => {
    if (typeof v === 'string') text += JSON.stringify(v.slice(0, BRIEF_LENGTH + 1));
    else if (typeof v === 'number') text += Number.isFinite(v) ? JSON.stringify(v) : String(v);
    else if (typeof v === 'bigint') text += `${v}n`;
    else if (typeof v === 'function') text += 'a function';
    else if (typeof v !== 'object' || v === null) text += String(v);
    else if (depth >= BRIEF_DEPTH) text += '…';
    else if (Array.isArray(v)) {
      text += '[';
      for (let i = 0; i < v.length && !full(); i++) {
        if (i > 0) text += ',';
        write(v[i], depth + 1);
      }
      text += ']';
    } else {
      text += '{';
      for (const [i, key] of Object.keys(v).entries()) {
        if (full()) break;
        text += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`;
        write((v as Record<string, unknown>)[key], depth + 1);
      }
      text += '}';
    }
  };
  write(value, 0);
  if (!full()) return text;
  const cut = text.slice(0, BRIEF_LENGTH - 3);
  return cut.endsWith('…') ? cut : `${cut}…`;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

class CaseReader {
  constructor(
    readonly index: number,
    readonly name: string | undefined,
    readonly path: string | undefined,
  ) {}

  fail(field: string, problem: string): never {
    const who = this.name === undefined ? `cases[${this.index}]` : `cases[${this.index}] ${JSON.stringify(this.name)}`;
    throw new VectorFileError(`${who}: ${field} ${problem}`, this.index, this.name, field, this.path);
  }

  shape(value: unknown, field: string): number[] {
    if (!Array.isArray(value) || value.length === 0 || !value.every((d) => Number.isInteger(d) && (d as number) >= 1)) {
      this.fail(field, `must be a non-empty array of positive integers, got ${brief(value)}`);
    }
    return value as number[];
  }

  values(value: unknown, field: string, length: number, shapeNote: string): Float64Array {
    if (!Array.isArray(value)) this.fail(field, `must be an array of numbers, got ${brief(value)}`);
    if (value.length !== length) this.fail(field, `has ${value.length} values, expected ${length} ${shapeNote}`);
    const out = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'number') out[i] = v;
      else if (typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) out[i] = NON_FINITE[v]!;
      else this.fail(`${field}[${i}]`, `must be a number (or "NaN", "Infinity", "-Infinity"), got ${brief(v)}`);
    }
    return out;
  }

  tolerance(value: unknown, field: string): Tolerance {
    if (!isRecord(value)) this.fail(field, `must be an object { atol, rtol }, got ${brief(value)}`);
    for (const key of Object.keys(value)) {
      if (key !== 'atol' && key !== 'rtol') this.fail(`${field}.${key}`, 'is not a field of a tolerance (atol, rtol)');
    }
    for (const key of ['atol', 'rtol'] as const) {
      const v = value[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(`${field}.${key}`, `must be a finite number ≥ 0, got ${brief(v)}`);
    }
    return { atol: value['atol'] as number, rtol: value['rtol'] as number };
  }
}

function readCase(raw: unknown, index: number, path: string | undefined): ConformanceCase {
  const name = isRecord(raw) && typeof raw['name'] === 'string' ? raw['name'] : undefined;
  const r: CaseReader = new CaseReader(index, name, path);
  if (!isRecord(raw)) r.fail('case', `must be an object, got ${brief(raw)}`);
  for (const key of Object.keys(raw)) if (!CASE_FIELDS.has(key)) r.fail(key, 'is not a field of a case');
  if (typeof raw['name'] !== 'string' || raw['name'] === '') r.fail('name', `must be a non-empty string, got ${brief(raw['name'])}`);
  const op = raw['op'];
  const isBatchNorm = (BATCH_NORM_OPS as readonly unknown[]).includes(op);
  if (!isBatchNorm && !(KERNEL_OPS as readonly unknown[]).includes(op)) {
    r.fail('op', `must be one of ${[...BATCH_NORM_OPS, ...KERNEL_OPS].join(', ')}, got ${brief(op)}`);
  }
  const caseOp = op as CaseOp;
  const inputsRaw = raw['inputs'];
  const expectedRaw = raw['expected'];
  if (!isRecord(inputsRaw)) r.fail('inputs', `must be an object of arrays, got ${brief(inputsRaw)}`);
  if (!isRecord(expectedRaw)) r.fail('expected', `must be an object of arrays, got ${brief(expectedRaw)}`);
  const spec = isBatchNorm ? BATCH_NORM_SPECS[caseOp as keyof typeof BATCH_NORM_SPECS] : KERNEL_SPECS[caseOp as keyof typeof KERNEL_SPECS];
  const allowedInputs = new Set([...spec.required, ...(spec.optional ?? [])]);
  for (const key of Object.keys(inputsRaw)) {
    if (!allowedInputs.has(key)) r.fail(`inputs.${key}`, `is not an input of ${caseOp} (inputs: ${[...allowedInputs].join(', ')})`);
  }
  for (const key of spec.required) if (inputsRaw[key] === undefined) r.fail(`inputs.${key}`, `is missing (${caseOp} needs ${spec.required.join(', ')})`);
  const expectedKeys = Object.keys(expectedRaw);
  if (expectedKeys.length === 0) r.fail('expected', `must hold at least one of ${spec.outputs.join(', ')}`);
  for (const key of expectedKeys) {
    if (!spec.outputs.includes(key)) r.fail(`expected.${key}`, `is not an output of ${caseOp} (outputs: ${spec.outputs.join(', ')})`);
  }

  const inputs: Record<string, Float64Array> = {};
  const expected: Record<string, Float64Array> = {};
  const attrsRaw = raw['attrs'];
  if (attrsRaw !== undefined && !isRecord(attrsRaw)) r.fail('attrs', `must be an object, got ${brief(attrsRaw)}`);
  const attrs = (attrsRaw ?? {}) as Record<string, unknown>;
  for (const [key, v] of Object.entries(attrs)) {
    if (!['number', 'string', 'boolean'].includes(typeof v)) r.fail(`attrs.${key}`, `must be a number, string or boolean, got ${brief(v)}`);
  }
  const numberAttr = (key: string, check: (v: number) => boolean, expectation: string, required: boolean): void => {
    const v = attrs[key];
    if (v === undefined && !required) return;
    if (typeof v !== 'number' || !check(v)) r.fail(`attrs.${key}`, `must be ${expectation}, got ${brief(v)}`);
  };

  let layout: Layout | undefined;
  let shape: number[];
  let epsilon: number | undefined;
  let shapes: Record<string, number[]> | undefined;
  if (isBatchNorm) {
    if (!(LAYOUTS as readonly unknown[]).includes(raw['layout'])) r.fail('layout', `must be one of ${LAYOUTS.join(', ')}, got ${brief(raw['layout'])}`);
    layout = raw['layout'] as Layout;
    shape = r.shape(raw['shape'], 'shape');
    let c: number;
    try {
      c = geometryOf(layout, shape).c;
    } catch (error) {
      r.fail('shape', error instanceof BatchNormError ? `${shapeText(shape)}: expected ${error.expected}` : String(error));
    }
    const size = product(shape);
    const e = raw['epsilon'];
    if (typeof e !== 'number' || !Number.isFinite(e) || e <= 0) r.fail('epsilon', `must be a finite number > 0, got ${brief(e)}`);
    epsilon = e;
    if (raw['shapes'] !== undefined) r.fail('shapes', `is for kernel cases only; ${caseOp} takes its shapes from shape and layout`);
    const lengthOf = (key: string): number => (key === 'x' || key === 'dy' || key === 'y' || key === 'dx' ? size : c);
    const note = (key: string): string =>
      lengthOf(key) === size ? `for shape ${shapeText(shape)}` : `(C = ${c} for shape ${shapeText(shape)} in ${layout})`;
    for (const [key, v] of Object.entries(inputsRaw)) inputs[key] = r.values(v, `inputs.${key}`, lengthOf(key), note(key));
    for (const [key, v] of Object.entries(expectedRaw)) expected[key] = r.values(v, `expected.${key}`, lengthOf(key), note(key));
    if (caseOp === 'forwardTraining') {
      const running = expected['runningMean'] !== undefined || expected['runningVar'] !== undefined;
      if (running) {
        if (attrsRaw === undefined) r.fail('attrs', 'is required when expected holds running statistics ({ momentum, varianceCorrection })');
        numberAttr('momentum', (v) => v >= 0 && v <= 1, 'a number in [0, 1] (weight of the new batch statistic)', true);
        const vc = attrs['varianceCorrection'];
        if (vc !== undefined && vc !== 'unbiased' && vc !== 'biased') r.fail('attrs.varianceCorrection', `must be "unbiased" or "biased", got ${brief(vc)}`);
        for (const key of ['runningMean', 'runningVar']) {
          if (inputs[key] === undefined) r.fail(`inputs.${key}`, 'is missing (needed for the expected running statistics)');
        }
      }
    }
  } else {
    if (raw['layout'] !== undefined) r.fail('layout', `is for batch-norm ops only, not ${caseOp}`);
    if (raw['epsilon'] !== undefined) r.fail('epsilon', `is for batch-norm ops only, not ${caseOp}`);
    const shapesRaw = raw['shapes'];
    if (!isRecord(shapesRaw)) r.fail('shapes', `must map each input of ${caseOp} to its shape, got ${brief(shapesRaw)}`);
    shapes = {};
    for (const key of Object.keys(shapesRaw)) if (!allowedInputs.has(key)) r.fail(`shapes.${key}`, `is not an input of ${caseOp}`);
    for (const key of spec.required) shapes[key] = r.shape(shapesRaw[key], `shapes.${key}`);
    for (const key of spec.required) {
      const s = shapes[key]!;
      inputs[key] = r.values(inputsRaw[key], `inputs.${key}`, product(s), `for shape ${shapeText(s)}`);
    }
    const outputLengths = kernelOutputLengths(caseOp, shapes, attrs, r);
    for (const [key, v] of Object.entries(expectedRaw)) {
      const length = outputLengths[key]!;
      expected[key] = r.values(v, `expected.${key}`, length, `for the inputs' shapes`);
    }
    if (caseOp === 'runningAverage') {
      numberAttr('factor', (v) => v >= 0 && v <= 1, 'a number in [0, 1]', true);
      numberAttr('batchScale', (v) => Number.isFinite(v) && v > 0, 'a finite number > 0', false);
    }
    if (caseOp === 'sgdUpdate') numberAttr('learningRate', Number.isFinite, 'a finite number', true);
    if (caseOp === 'matMul') {
      for (const key of ['transposeA', 'transposeB']) {
        if (attrs[key] !== undefined && typeof attrs[key] !== 'boolean') r.fail(`attrs.${key}`, `must be true or false, got ${brief(attrs[key])}`);
      }
    }
    shape = shapes[spec.required[0]!]!;
  }
  const tolerance = raw['tolerance'] === undefined ? undefined : r.tolerance(raw['tolerance'], 'tolerance');
  let outputTolerance: Record<string, Tolerance> | undefined;
  if (raw['outputTolerance'] !== undefined) {
    const ot = raw['outputTolerance'];
    if (!isRecord(ot)) r.fail('outputTolerance', `must map outputs to { atol, rtol }, got ${brief(ot)}`);
    outputTolerance = {};
    for (const [key, v] of Object.entries(ot)) {
      if (!spec.outputs.includes(key)) r.fail(`outputTolerance.${key}`, `is not an output of ${caseOp}`);
      outputTolerance[key] = r.tolerance(v, `outputTolerance.${key}`);
    }
  }
  return {
    name: raw['name'] as string,
    op: caseOp,
    ...(layout === undefined ? {} : { layout }),
    shape,
    ...(epsilon === undefined ? {} : { epsilon }),
    ...(attrsRaw === undefined ? {} : { attrs: attrs as Record<string, number | string | boolean> }),
    inputs,
    ...(shapes === undefined ? {} : { shapes }),
    expected,
    ...(tolerance === undefined ? {} : { tolerance }),
    ...(outputTolerance === undefined ? {} : { outputTolerance }),
  };
}

function kernelOutputLengths(
  op: CaseOp,
  shapes: Record<string, number[]>,
  attrs: Record<string, unknown>,
  r: CaseReader,
): Record<string, number> {
  const rank2 = (key: string): [number, number] => {
    const s = shapes[key]!;
    if (s.length !== 2) r.fail(`shapes.${key}`, `must be a matrix [rows, cols], got ${shapeText(s)}`);
    return [s[0]!, s[1]!];
  };
  const same = (a: string, b: string): void => {
    if (shapeText(shapes[a]!) !== shapeText(shapes[b]!)) {
      r.fail(`shapes.${b}`, `must equal shapes.${a} ${shapeText(shapes[a]!)}, got ${shapeText(shapes[b]!)}`);
    }
  };
  switch (op) {
    case 'matMul': {
      const [ar, ac] = rank2('a');
      const [br, bc] = rank2('b');
      const ta = attrs['transposeA'] === true;
      const tb = attrs['transposeB'] === true;
      const k1 = ta ? ar : ac;
      const k2 = tb ? bc : br;
      if (k1 !== k2) r.fail('shapes.b', `inner dimension ${k2} does not match a's ${k1} (transposeA ${ta}, transposeB ${tb})`);
      return { out: (ta ? ac : ar) * (tb ? br : bc) };
    }
    case 'addBias': {
      const [, cols] = rank2('x');
      if (product(shapes['bias']!) !== cols) r.fail('shapes.bias', `must hold ${cols} values (x's columns), got ${shapeText(shapes['bias']!)}`);
      return { out: product(shapes['x']!) };
    }
    case 'sumRows':
      return { out: rank2('x')[1] };
    case 'softmaxCrossEntropy':
      rank2('logits');
      same('logits', 'labels');
      return { loss: 1, dLogits: product(shapes['logits']!) };
    case 'runningAverage':
      same('running', 'batch');
      return { out: product(shapes['running']!) };
    case 'sigmoidBackward':
      same('dy', 'y');
      return { out: product(shapes['dy']!) };
    case 'reluBackward':
      same('dy', 'x');
      return { out: product(shapes['dy']!) };
    case 'sgdUpdate':
      same('param', 'grad');
      return { out: product(shapes['param']!) };
    default: {
      const first = Object.values(shapes)[0]!;
      return { out: product(first) };
    }
  }
}

/** Validates a parsed vector file strictly; throws a `VectorFileError` naming the case and field. */
export function parseVectorFile(json: unknown, path?: string): ConformanceCase[] {
  const where = path === undefined ? '' : `${path}: `;
  if (!isRecord(json)) throw new VectorFileError(`${where}a vector file must be a JSON object, got ${brief(json)}`, undefined, undefined, undefined, path);
  if (json['schema'] !== VECTOR_SCHEMA) {
    throw new VectorFileError(`${where}schema must be "${VECTOR_SCHEMA}", got ${brief(json['schema'])}`, undefined, undefined, 'schema', path);
  }
  for (const key of Object.keys(json)) {
    if (key !== 'schema' && key !== 'cases' && key !== 'description' && key !== 'generator') {
      throw new VectorFileError(`${where}${key} is not a field of a vector file (schema, cases, description, generator)`, undefined, undefined, key, path);
    }
  }
  const cases = json['cases'];
  if (!Array.isArray(cases)) throw new VectorFileError(`${where}cases must be an array, got ${brief(cases)}`, undefined, undefined, 'cases', path);
  const names = new Set<string>();
  return cases.map((raw, index) => {
    let parsed: ConformanceCase;
    try {
      parsed = readCase(raw, index, path);
    } catch (error) {
      if (error instanceof VectorFileError && path !== undefined) {
        throw new VectorFileError(`${path}: ${error.message}`, error.caseIndex, error.caseName, error.field, path);
      }
      throw error;
    }
    if (names.has(parsed.name)) {
      throw new VectorFileError(`${where}cases[${index}] ${JSON.stringify(parsed.name)}: name is used by an earlier case`, index, parsed.name, 'name', path);
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

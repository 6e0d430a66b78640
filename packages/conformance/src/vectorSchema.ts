/**
 * The declared schema of `batchnorm-vectors/1` (valibot): which fields a file and each case have,
 * their types, and each op's inputs and outputs. What depends on several fields at once (lengths
 * against the shape, the layout's rank, matMul's inner dimension) is checked in `vectorFile.ts`.
 * Every message is the problem only; the caller puts the case and the field (the issue's path)
 * in front of it.
 */
import * as v from 'valibot';
import { LAYOUTS } from '@batchnorm/core';
import { brief } from './brief.js';
import { BATCH_NORM_OPS, KERNEL_OPS, type CaseOp } from './types.js';

export const VECTOR_SCHEMA = 'batchnorm-vectors/1';

/** Each op's inputs (required, then optional) and outputs. */
interface OpSpec {
  readonly required: readonly string[];
  readonly optional?: readonly string[];
  readonly outputs: readonly string[];
}

export const OP_SPECS: Readonly<Record<CaseOp, OpSpec>> = {
  forwardTraining: {
    required: ['x', 'gamma', 'beta'],
    optional: ['runningMean', 'runningVar'],
    outputs: ['y', 'mean', 'variance', 'runningMean', 'runningVar'],
  },
  forwardInference: { required: ['x', 'gamma', 'beta', 'runningMean', 'runningVar'], outputs: ['y'] },
  backward: { required: ['x', 'gamma', 'dy'], optional: ['beta'], outputs: ['dx', 'dgamma', 'dbeta'] },
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

const got = (problem: string) => (issue: v.BaseIssue<unknown>) => `${problem}, got ${brief(issue.input)}`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The words for an object's problems: not an object, a field it does not have, a field missing. */
interface ObjectWords {
  readonly notObject: string;
  readonly unknownKey: string;
  readonly missingKey?: string;
}

/** A strict object (no array, no unknown key), each problem said in `words`. */
function record<const E extends v.ObjectEntries>(entries: E, words: ObjectWords) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isRecord, got(words.notObject)),
    // the object is there (checked above): an issue of its own is a key it has not, or one missing,
    // which is said as the key's own schema says `undefined` ("must be …, got nothing")
    v.strictObject(entries, (issue) => {
      if (issue.expected === 'never') return words.unknownKey;
      if (words.missingKey !== undefined) return words.missingKey;
      const key = issue.path?.at(-1)?.key as string;
      const result = v.safeParse(entries[key]!, undefined, { abortEarly: true });
      return result.success ? 'is missing' : result.issues[0].message;
    }),
  );
}

/** JSON has no NaN or infinities: a file may spell them as these strings. */
export const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };

// any number (an in-memory NaN too: valibot's `number()` refuses NaN)
const isNumber = (x: unknown): x is number => typeof x === 'number';

/**
 * A tensor's values. Each is a number or a non-finite's spelling, checked by `vectorFile.ts` after
 * the array's length (which depends on the shape): a wrong length is the problem a person sees
 * first, even when the values are wrong too.
 */
const valuesSchema = v.array(v.unknown(), got('must be an array of numbers'));

const isShape = (s: unknown): s is number[] =>
  Array.isArray(s) && s.length > 0 && s.every((d) => Number.isInteger(d) && (d as number) >= 1);
const shapeSchema = v.custom<number[]>(isShape, got('must be a non-empty array of positive integers'));

const toleranceBound = v.custom<number>(
  (t) => typeof t === 'number' && Number.isFinite(t) && t >= 0,
  got('must be a finite number ≥ 0'),
);
const toleranceSchema = record(
  { atol: toleranceBound, rtol: toleranceBound },
  { notObject: 'must be an object { atol, rtol }', unknownKey: 'is not a field of a tolerance (atol, rtol)' },
);

const attrsSchema = v.pipe(
  v.custom<Record<string, unknown>>(isRecord, got('must be an object')),
  v.record(v.string(), v.union([v.custom<number>(isNumber), v.string(), v.boolean()], got('must be a number, string or boolean'))),
);

/** `{ key: schema }` for each of `keys`, optional unless `required` says so. */
function fields<S extends v.GenericSchema>(keys: readonly string[], schema: S, required: readonly string[] = []) {
  return Object.fromEntries(keys.map((key) => [key, required.includes(key) ? schema : v.optional(schema)]));
}

const absent = (problem: string) => v.optional(v.custom<never>(() => false, problem));

function caseSchema(op: CaseOp) {
  const spec = OP_SPECS[op];
  const inputNames = [...spec.required, ...(spec.optional ?? [])];
  const batchNorm = (BATCH_NORM_OPS as readonly string[]).includes(op);
  const outputs = record(fields(spec.outputs, valuesSchema), {
    notObject: 'must be an object of arrays',
    unknownKey: `is not an output of ${op} (outputs: ${spec.outputs.join(', ')})`,
  });
  return record(
    {
      name: v.pipe(v.string(got('must be a non-empty string')), v.nonEmpty(got('must be a non-empty string'))),
      op: v.literal(op),
      layout: batchNorm ? v.picklist(LAYOUTS, got(`must be one of ${LAYOUTS.join(', ')}`)) : absent(`is for batch-norm ops only, not ${op}`),
      shape: batchNorm ? shapeSchema : v.optional(shapeSchema),
      epsilon: batchNorm
        ? v.custom<number>((e) => typeof e === 'number' && Number.isFinite(e) && e > 0, got('must be a finite number > 0'))
        : absent(`is for batch-norm ops only, not ${op}`),
      attrs: v.optional(attrsSchema),
      inputs: record(fields(inputNames, valuesSchema, spec.required), {
        notObject: 'must be an object of arrays',
        unknownKey: `is not an input of ${op} (inputs: ${inputNames.join(', ')})`,
        missingKey: `is missing (${op} needs ${spec.required.join(', ')})`,
      }),
      shapes: batchNorm
        ? absent(`is for kernel cases only; ${op} takes its shapes from shape and layout`)
        : record(fields(spec.required, shapeSchema, spec.required), {
            notObject: `must map each input of ${op} to its shape`,
            unknownKey: `is not an input of ${op}`,
          }),
      expected: v.pipe(
        outputs,
        v.check((e) => Object.keys(e).length > 0, `must hold at least one of ${spec.outputs.join(', ')}`),
      ),
      tolerance: v.optional(toleranceSchema),
      outputTolerance: v.optional(
        record(fields(spec.outputs, toleranceSchema), {
          notObject: 'must map outputs to { atol, rtol }',
          unknownKey: `is not an output of ${op}`,
        }),
      ),
      description: v.optional(v.unknown()),
    },
    { notObject: 'must be an object', unknownKey: 'is not a field of a case' },
  );
}

/** The schema of a case of each op of `OP_SPECS` (whose type makes a missing op an error). */
const CASE_SCHEMAS = Object.fromEntries(Object.keys(OP_SPECS).map((op) => [op, caseSchema(op as CaseOp)])) as Record<
  CaseOp,
  ReturnType<typeof caseSchema>
>;

const opSchema = v.picklist([...BATCH_NORM_OPS, ...KERNEL_OPS], got(`must be one of ${[...BATCH_NORM_OPS, ...KERNEL_OPS].join(', ')}`));

const fileSchema = record(
  {
    schema: v.literal(VECTOR_SCHEMA, got(`must be "${VECTOR_SCHEMA}"`)),
    cases: v.array(v.unknown(), got('must be an array')),
    description: v.optional(v.unknown()),
    generator: v.optional(v.unknown()),
  },
  { notObject: 'a vector file must be a JSON object', unknownKey: 'is not a field of a vector file (schema, cases, description, generator)' },
);

/** A case as the schema leaves it: every field of the right type, values as numbers. */
export interface RawCase {
  readonly name: string;
  readonly op: CaseOp;
  readonly layout?: (typeof LAYOUTS)[number];
  readonly shape?: number[];
  readonly epsilon?: number;
  readonly attrs?: Record<string, number | string | boolean>;
  readonly inputs: Record<string, unknown[]>;
  readonly shapes?: Record<string, number[]>;
  readonly expected: Record<string, unknown[]>;
  readonly tolerance?: { atol: number; rtol: number };
  readonly outputTolerance?: Record<string, { atol: number; rtol: number }>;
}

/** The first problem of `input` against `schema`: the field (`inputs.x[3]`) and what is wrong. */
export interface SchemaProblem {
  readonly field: string;
  readonly problem: string;
}

function fieldOf(issue: v.BaseIssue<unknown>): string {
  let field = '';
  for (const item of issue.path ?? []) {
    const key = item.key as string | number;
    field += typeof key === 'number' ? `[${key}]` : `${field === '' ? '' : '.'}${key}`;
  }
  return field;
}

function firstProblem<T>(schema: v.GenericSchema<unknown, T>, input: unknown): { value: T } | SchemaProblem {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return { value: result.output };
  const issue = result.issues[0];
  return { field: fieldOf(issue), problem: issue.message };
}

/** Checks a case against its op's schema (the op first, so the message can name the op's fields). */
export function checkCase(raw: unknown): { value: RawCase } | SchemaProblem {
  if (!isRecord(raw)) return { field: 'case', problem: `must be an object, got ${brief(raw)}` };
  const op = firstProblem(opSchema, raw['op']);
  if (!('value' in op)) return { field: 'op', problem: op.problem };
  return firstProblem(CASE_SCHEMAS[op.value], raw) as { value: RawCase } | SchemaProblem;
}

/** Checks the file's own fields (not its cases). */
export function checkFile(json: unknown): { value: { cases: unknown[] } } | SchemaProblem {
  return firstProblem(fileSchema, json);
}

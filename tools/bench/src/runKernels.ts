import { geometryOf } from '@batchnorm/core';
import { KERNEL_OPS, bytesMoved, floorMs, gigabytesPerSecond, type KernelOp, type MeasuredOp } from './byteModel.js';
import { checkOutputs } from './check.js';
import { makeInputs, type KernelInputs } from './data.js';
import { expectationsFor, type Expectations } from './expected.js';
import { SPREAD_LIMIT, measureRounds, ratioToCopy, type MeasurePlan, type RoundsMeasurement, type TimedTask } from './measure.js';
import { copyPlan, planFor } from './plan.js';
import type { BenchResult, SkippedEntry } from './results.js';
import { describeShape, sizeOf, type BenchShape } from './shapes.js';
import type { KernelSubject, PreparedKernel } from './subjects/subject.js';
import { firstLine } from './names.js';

/** Which forms of each kernel are timed. */
export interface TimedModes {
  /** Outputs read back to the host inside the timed call. */
  readonly readBack: boolean;
  /** Outputs left on the device and disposed unread. */
  readonly resident: boolean;
}

export const BOTH_MODES: TimedModes = { readBack: true, resident: true };

/** Something timed on a whole shape in another process (a subject's child, PyTorch's): its results. */
export type ShapeRunner = (inputs: KernelInputs, ops: readonly KernelOp[], copyMs: number) => Promise<{
  results: BenchResult[];
  skipped: SkippedEntry[];
}>;

export interface KernelRunOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** Replaces the measurement plan (tests). */
  readonly plan?: (firstCallMs: number) => MeasurePlan;
  readonly now?: () => number;
  /** Rounds per case (default: the plan's, 3 in a full run). */
  readonly rounds?: number;
  /** Kernel ops to time (default all three). */
  readonly ops?: readonly KernelOp[];
  readonly modes?: TimedModes;
  /** Run after our subjects on each shape (the PyTorch anchor). */
  readonly afterSubjects?: ShapeRunner;
}

/** The name the memory baseline is reported under (op `copy`). */
export const COPY_BACKEND = 'memory';
/** The reference backend is float64 and unoptimised: timed on tensors up to this size only. */
export const REFERENCE_TIMED_LIMIT = 65_536;
/**
 * tfjs-cpu and gpu.js in its CPU mode need seconds per call on large tensors: `--quick` skips
 * them from this size up.
 */
export const QUICK_SLOW_LIMIT = 1_000_000;

/** Why `subject` is not timed on `shape`, or undefined. */
export function skipReason(
  subject: Pick<KernelSubject, 'name' | 'details'>,
  shape: BenchShape,
  quick: boolean,
): string | undefined {
  const size = sizeOf(shape);
  if (subject.name === 'reference' && size > REFERENCE_TIMED_LIMIT) return 'reference is timed on the small shape only';
  if (quick && size >= QUICK_SLOW_LIMIT) {
    if (subject.name === 'tfjs-cpu') return '--quick skips tfjs-cpu on large shapes (seconds per call)';
    if (subject.name === 'gpujs' && subject.details.mode === 'cpu') return '--quick skips gpu.js in its CPU mode on large shapes (seconds per call)';
  }
  return undefined;
}

/**
 * The timing fields of a result: the rounds' min/median/max and spread, the ratio to the copy,
 * GB/s by the byte model and the ratio to its floor (at the copy's bandwidth).
 */
export function timingFields(
  op: MeasuredOp,
  inputs: Pick<KernelInputs, 'layout' | 'shape'>,
  m: Omit<RoundsMeasurement, 'roundMediansMs'>,
  copyMs: number | undefined,
): Partial<BenchResult> {
  return {
    medianMs: m.medianMs,
    minMs: m.minMs,
    maxMs: m.maxMs,
    rounds: m.rounds,
    ...(m.spread === undefined ? {} : { spread: m.spread, unstable: m.spread > SPREAD_LIMIT }),
    ...(copyMs === undefined ? {} : { ratioToCopy: ratioToCopy(m.medianMs, copyMs) }),
    gbPerSecond: gigabytesPerSecond(bytesMoved(op, inputs.layout, inputs.shape), m.medianMs),
    ...(copyMs === undefined ? {} : { ratioToFloor: m.medianMs / floorMs(op, inputs.layout, inputs.shape, copyMs) }),
    samples: m.samples,
  };
}

/** `Float32Array.set` of x into an array already touched: the memory baseline of this shape. */
export async function measureCopy(inputs: KernelInputs, options: KernelRunOptions): Promise<BenchResult> {
  const target = new Float32Array(inputs.x.length);
  target.set(inputs.x);
  const task = { name: `copy ${describeShape(inputs)}`, run: () => target.set(inputs.x), isAsync: false };
  const [m] = await measureRounds([task], copyPlan(options.quick, options.rounds), options.now);
  if (target[target.length - 1] !== inputs.x[inputs.x.length - 1]) throw new Error('copy baseline did not copy');
  return {
    backend: COPY_BACKEND,
    op: 'copy',
    layout: inputs.layout,
    shape: [...inputs.shape],
    readBack: false,
    ...timingFields('copy', inputs, m!, m!.medianMs),
  };
}

/**
 * Checks one kernel of one subject against the expectations (its first call, read back), then
 * times it read back and resident, in interleaved rounds. A wrong or failing kernel is reported
 * with `error` and never timed. A subject that cannot run resident gets a skip saying why.
 * Where the subject keeps counters (webgpu), one more call of each mode is counted.
 */
export async function runKernelCase(
  subject: KernelSubject,
  op: KernelOp,
  inputs: KernelInputs,
  expected: Expectations,
  copyMs: number | undefined,
  options: KernelRunOptions,
): Promise<{ results: BenchResult[]; skipped: SkippedEntry[] }> {
  const where = { backend: subject.name, op, layout: inputs.layout, shape: [...inputs.shape] } as const;
  const modes = options.modes ?? BOTH_MODES;
  const skipped: SkippedEntry[] = [];
  let prepared: PreparedKernel | undefined;
  try {
    prepared = await subject.prepare(op, inputs);
    const kernel = prepared;
    const started = performance.now();
    const outputs = await kernel.run();
    const firstCallMs = performance.now() - started;
    const problem = checkOutputs(outputs, expected[op], geometryOf(inputs.layout, inputs.shape).m);
    if (problem !== undefined) return { results: [{ ...where, readBack: true, error: `wrong result, not timed: ${problem}` }], skipped };
    const plan = options.plan?.(firstCallMs) ?? planFor(firstCallMs, options.quick, options.rounds);
    const label = `${subject.name} ${op} ${describeShape(inputs)}`;
    const tasks: (TimedTask & { readBack: boolean })[] = [];
    if (modes.readBack) tasks.push({ name: `${label} read back`, run: () => kernel.run(), isAsync: kernel.isAsync, readBack: true });
    if (modes.resident) {
      const { resident } = kernel;
      if ('unavailable' in resident) skipped.push({ ...where, readBack: false, reason: resident.unavailable });
      else tasks.push({ name: `${label} resident`, run: () => resident.run(), isAsync: resident.isAsync, readBack: false });
    }
    const measured = await measureRounds(tasks, plan, options.now);
    const results: BenchResult[] = [];
    for (const [i, task] of tasks.entries()) {
      let counters: Record<string, unknown> | undefined;
      if (subject.counters !== undefined) {
        subject.counters.reset();
        await task.run();
        counters = subject.counters.snapshot(op);
      }
      results.push({
        ...where,
        readBack: task.readBack,
        ...timingFields(op, inputs, measured[i]!, copyMs),
        ...(counters === undefined ? {} : { counters }),
      });
    }
    return { results, skipped };
  } catch (error) {
    return { results: [{ ...where, readBack: true, error: `failed: ${firstLine(error)}` }], skipped };
  } finally {
    prepared?.dispose();
  }
}

function describeResult(r: BenchResult): string {
  if (r.error !== undefined) return r.error;
  const spread = r.spread === undefined ? '' : `, spread ${(100 * r.spread).toFixed(0)}%${r.unstable ? ' UNSTABLE' : ''}`;
  return `${r.medianMs!.toFixed(3)} ms (${r.ratioToCopy?.toFixed(2) ?? '?'}× copy, ${r.ratioToFloor?.toFixed(2) ?? '?'}× floor${spread})`;
}

/**
 * Every op of every subject on one shape, against the copy measured for it (`copyMs`). The
 * inputs and float64 expectations are made only when a subject runs on the shape.
 */
export async function runSubjectsOnShape(
  subjects: readonly KernelSubject[],
  shape: BenchShape,
  copyMs: number,
  options: KernelRunOptions,
): Promise<{ results: BenchResult[]; skipped: SkippedEntry[] }> {
  const results: BenchResult[] = [];
  const skipped: SkippedEntry[] = [];
  const label = describeShape(shape);
  let prepared: { inputs: KernelInputs; expected: Expectations } | undefined;
  for (const subject of subjects) {
    const reason = skipReason(subject, shape, options.quick);
    if (reason !== undefined) {
      skipped.push({ backend: subject.name, layout: shape.layout, shape: [...shape.shape], reason });
      continue;
    }
    if (prepared === undefined) {
      const inputs = makeInputs(shape);
      prepared = { inputs, expected: expectationsFor(inputs) };
    }
    for (const op of options.ops ?? KERNEL_OPS) {
      const outcome = await runKernelCase(subject, op, prepared.inputs, prepared.expected, copyMs, options);
      results.push(...outcome.results);
      skipped.push(...outcome.skipped);
      for (const r of outcome.results) {
        options.log(`${label}: ${subject.name} ${op} ${r.error === undefined ? (r.readBack ? 'read back ' : 'resident ') : ''}${describeResult(r)}`);
      }
    }
  }
  return { results, skipped };
}

/**
 * Every shape: the copy, then each runner in turn (one per child process, which logs its own
 * cases), then `afterSubjects` (PyTorch). Nothing else runs while a runner times.
 */
export async function runKernels(
  shapes: readonly BenchShape[],
  runners: readonly ShapeRunner[],
  options: KernelRunOptions,
): Promise<{ results: BenchResult[]; skipped: SkippedEntry[] }> {
  const results: BenchResult[] = [];
  const skipped: SkippedEntry[] = [];
  const ops = options.ops ?? KERNEL_OPS;
  for (const shape of shapes) {
    const label = describeShape(shape);
    options.log(`${label}: generating inputs`);
    const inputs = makeInputs(shape);
    const copy = await measureCopy(inputs, options);
    results.push(copy);
    options.log(`${label}: copy ${describeResult(copy)}`);
    for (const runner of runners) {
      const outcome = await runner(inputs, ops, copy.medianMs!);
      results.push(...outcome.results);
      skipped.push(...outcome.skipped);
    }
    if (options.afterSubjects !== undefined) {
      const outcome = await options.afterSubjects(inputs, ops, copy.medianMs!);
      results.push(...outcome.results);
      skipped.push(...outcome.skipped);
      for (const r of outcome.results) options.log(`${label}: ${r.backend} ${r.op} ${describeResult(r)}`);
    }
  }
  return { results, skipped };
}

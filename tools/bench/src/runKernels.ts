import { geometryOf } from '@batchnorm/core';
import { KERNEL_OPS, bytesMoved, gigabytesPerSecond, type KernelOp } from './byteModel.js';
import { checkOutputs } from './check.js';
import { makeInputs, type KernelInputs } from './data.js';
import { expectationsFor, type Expectations } from './expected.js';
import { measure, ratioToCopy, type MeasurePlan } from './measure.js';
import { copyPlan, planFor } from './plan.js';
import type { BenchResult, SkippedEntry } from './results.js';
import { describeShape, sizeOf, type BenchShape } from './shapes.js';
import type { KernelSubject, PreparedKernel } from './subjects/subject.js';
import { firstLine } from './names.js';

export interface KernelRunOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** Replaces the measurement plan (tests). */
  readonly plan?: (firstCallMs: number) => MeasurePlan;
  readonly now?: () => number;
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

/** `Float32Array.set` of x into an array already touched: the memory baseline of this shape. */
export async function measureCopy(inputs: KernelInputs, options: KernelRunOptions): Promise<BenchResult> {
  const target = new Float32Array(inputs.x.length);
  target.set(inputs.x);
  const m = await measure(`copy ${describeShape(inputs)}`, () => target.set(inputs.x), copyPlan(options.quick), options.now);
  if (target[target.length - 1] !== inputs.x[inputs.x.length - 1]) throw new Error('copy baseline did not copy');
  return {
    backend: COPY_BACKEND,
    op: 'copy',
    layout: inputs.layout,
    shape: [...inputs.shape],
    medianMs: m.medianMs,
    ratioToCopy: 1,
    gbPerSecond: gigabytesPerSecond(bytesMoved('copy', inputs.layout, inputs.shape), m.medianMs),
    samples: m.samples,
  };
}

/**
 * Checks one kernel of one subject against the expectations, then times it. A wrong or failing
 * kernel is reported with `error` and never timed.
 */
export async function runKernelCase(
  subject: KernelSubject,
  op: KernelOp,
  inputs: KernelInputs,
  expected: Expectations,
  copyMs: number | undefined,
  options: KernelRunOptions,
): Promise<BenchResult> {
  const where = { backend: subject.name, op, layout: inputs.layout, shape: [...inputs.shape] } as const;
  let prepared: PreparedKernel | undefined;
  try {
    prepared = await subject.prepare(op, inputs);
    const kernel = prepared;
    const started = performance.now();
    const outputs = await kernel.run();
    const firstCallMs = performance.now() - started;
    const problem = checkOutputs(outputs, expected[op], geometryOf(inputs.layout, inputs.shape).m);
    if (problem !== undefined) return { ...where, error: `wrong result, not timed: ${problem}` };
    const plan = options.plan?.(firstCallMs) ?? planFor(firstCallMs, options.quick);
    const m = await measure(`${subject.name} ${op} ${describeShape(inputs)}`, () => kernel.run(), plan, options.now, kernel.isAsync);
    return {
      ...where,
      medianMs: m.medianMs,
      ...(copyMs === undefined ? {} : { ratioToCopy: ratioToCopy(m.medianMs, copyMs) }),
      gbPerSecond: gigabytesPerSecond(bytesMoved(op, inputs.layout, inputs.shape), m.medianMs),
      samples: m.samples,
    };
  } catch (error) {
    return { ...where, error: `failed: ${firstLine(error)}` };
  } finally {
    prepared?.dispose();
  }
}

/** Every shape: the copy, then every subject's three kernels. */
export async function runKernels(
  shapes: readonly BenchShape[],
  subjects: readonly KernelSubject[],
  options: KernelRunOptions,
): Promise<{ results: BenchResult[]; skipped: SkippedEntry[] }> {
  const results: BenchResult[] = [];
  const skipped: SkippedEntry[] = [];
  for (const shape of shapes) {
    const label = describeShape(shape);
    options.log(`${label}: generating inputs and float64 expectations`);
    const inputs = makeInputs(shape);
    const expected = expectationsFor(inputs);
    const copy = await measureCopy(inputs, options);
    results.push(copy);
    options.log(`${label}: copy ${copy.medianMs!.toFixed(3)} ms`);
    for (const subject of subjects) {
      const reason = skipReason(subject, shape, options.quick);
      if (reason !== undefined) {
        skipped.push({ backend: subject.name, layout: shape.layout, shape: [...shape.shape], reason });
        continue;
      }
      for (const op of KERNEL_OPS) {
        const result = await runKernelCase(subject, op, inputs, expected, copy.medianMs, options);
        results.push(result);
        options.log(
          `${label}: ${subject.name} ${op} ` +
            (result.error ?? `${result.medianMs!.toFixed(3)} ms (${result.ratioToCopy!.toFixed(1)}× copy)`),
        );
      }
    }
  }
  return { results, skipped };
}

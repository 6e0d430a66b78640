import { BatchNorm, compareClose, type Backend, type Layout, type TensorHandle, type Tolerance } from '@batchnorm/core';
import { ONNX_TEST_TOLERANCE, type OnnxVectorCase } from './backendTest.js';

/** The outcome of one case on one backend: the shape of `@batchnorm/conformance`'s `CaseResult`. */
export interface OnnxCaseResult {
  readonly backend: string;
  readonly case: string;
  readonly op: string;
  readonly layout?: Layout;
  readonly shape?: readonly number[];
  readonly pass: boolean;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly toleranceRatio?: number;
  readonly mismatches?: number;
  readonly message?: string;
}

export interface RunOnnxOptions {
  /** Overrides every case's tolerance. Cases without one use {@link ONNX_TEST_TOLERANCE}. */
  readonly tolerance?: Tolerance;
  /** The name results carry; default `backend.name`. */
  readonly backendName?: string;
}

/**
 * Runs cases through the `BatchNorm` layer on `backend`, as a user would: a layer restored with
 * the case's γ, β and running statistics, `eval()` for inference, one training `forward` for
 * training mode (then its running statistics are compared). Never throws: a case that throws
 * fails with the error as its message.
 */
export async function runOnnxCases<T extends TensorHandle>(
  cases: readonly OnnxVectorCase[],
  backend: Backend<T>,
  options: RunOnnxOptions = {},
): Promise<OnnxCaseResult[]> {
  const results: OnnxCaseResult[] = [];
  for (const c of cases) {
    const base = { backend: options.backendName ?? backend.name, case: c.name, op: c.op, layout: c.layout, shape: [...c.shape] };
    const handles: T[] = [];
    let layer: BatchNorm<T> | undefined;
    try {
      const input = (key: string): Float64Array => {
        const v = c.inputs[key];
        if (v === undefined) throw new Error(`inputs.${key} is missing`);
        return v;
      };
      layer = BatchNorm.fromState<T, Backend<T>>(backend, {
        schema: 'batchnorm-state/1',
        numFeatures: input('gamma').length,
        layout: c.layout,
        epsilon: c.epsilon,
        momentum: c.attrs?.momentum ?? 0.1,
        varianceCorrection: c.attrs?.varianceCorrection ?? 'unbiased',
        gamma: Array.from(input('gamma')),
        beta: Array.from(input('beta')),
        runningMean: Array.from(input('runningMean')),
        runningVar: Array.from(input('runningVar')),
        numBatchesTracked: 0,
      });
      if (c.op === 'forwardInference') layer.eval();
      const x = backend.upload(backend.dtype === 'float64' ? input('x') : Float32Array.from(input('x')), c.shape);
      handles.push(x);
      const y = layer.forward(x);
      handles.push(y);
      const got: Record<string, ArrayLike<number>> = { y: await backend.read(y) };
      if (c.op === 'forwardTraining') {
        const state = await layer.state();
        got['runningMean'] = state.runningMean;
        got['runningVar'] = state.runningVar;
      }
      let tally = { maxAbsError: 0, maxRelError: 0, toleranceRatio: 0, mismatches: 0, message: undefined as string | undefined };
      for (const [key, want] of Object.entries(c.expected)) {
        const output = got[key];
        if (output === undefined) throw new Error(`no output "${key}" to compare`);
        const r = compareClose(output, want, options.tolerance ?? c.tolerance ?? ONNX_TEST_TOLERANCE, key);
        tally = {
          maxAbsError: Math.max(tally.maxAbsError, r.maxAbsError),
          maxRelError: Math.max(tally.maxRelError, r.maxRelError),
          toleranceRatio: Math.max(tally.toleranceRatio, r.toleranceRatio),
          mismatches: tally.mismatches + r.mismatches,
          message: tally.message ?? (r.firstMismatch === undefined ? undefined : `${r.mismatches} of ${want.length} values outside tolerance; first: ${r.firstMismatch}`),
        };
      }
      results.push({
        ...base,
        pass: tally.mismatches === 0,
        maxAbsError: tally.maxAbsError,
        maxRelError: tally.maxRelError,
        toleranceRatio: tally.toleranceRatio,
        ...(tally.mismatches === 0 ? {} : { mismatches: tally.mismatches }),
        ...(tally.message === undefined ? {} : { message: tally.message }),
      });
    } catch (error) {
      results.push({
        ...base,
        pass: false,
        maxAbsError: Infinity,
        maxRelError: Infinity,
        message: `threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      });
    }
    try {
      for (const h of handles) backend.dispose(h);
      layer?.dispose();
    } catch (error) {
      // a case whose outputs were right still fails when releasing them throws
      const last = results[results.length - 1]!;
      if (last.pass) results[results.length - 1] = { ...last, pass: false, message: `threw while disposing: ${String(error)}` };
    }
  }
  return results;
}

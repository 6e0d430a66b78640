import { describe, expect, it } from 'vitest';
import { expectBatchNormError } from './__tests__/helpers.js';
import { KERNEL_NAMES, type KernelName } from './backend.js';
import { bindKernels, type ContextKernels } from './bindKernels.js';
import { HandleRegistry } from './handles.js';
import { createReferenceBackend, referenceKernels, type ReferenceBackend, type ReferenceSaved, type ReferenceTensor } from './reference/index.js';
import { referenceTensor } from './reference/tensor.js';

/** A context that records which kernel ran on it. */
class Recorder {
  readonly calls: KernelName[] = [];
}

/** The reference's kernels written as functions of a context, the way a backend writes its own. */
function recordingKernels() {
  const on =
    <N extends KernelName>(name: N) =>
    (ctx: Recorder, ...args: Parameters<(typeof referenceKernels)[N]>): ReturnType<(typeof referenceKernels)[N]> => {
      ctx.calls.push(name);
      const kernel = referenceKernels[name] as (...a: unknown[]) => unknown;
      return kernel(...args) as ReturnType<(typeof referenceKernels)[N]>;
    };
  return {
    batchNormForwardTraining: on('batchNormForwardTraining'),
    batchNormForwardInference: on('batchNormForwardInference'),
    batchNormBackward: on('batchNormBackward'),
    runningAverage: on('runningAverage'),
    matMul: on('matMul'),
    addBias: on('addBias'),
    sumRows: on('sumRows'),
    sigmoid: on('sigmoid'),
    sigmoidBackward: on('sigmoidBackward'),
    relu: on('relu'),
    reluBackward: on('reluBackward'),
    softmaxCrossEntropy: on('softmaxCrossEntropy'),
    sgdUpdate: on('sgdUpdate'),
  } satisfies ContextKernels<Recorder>;
}

/** A reference-like backend whose kernels come from `bindKernels`. */
function boundBackend(ctx: Recorder, around?: <R>(kernel: KernelName, run: () => R) => R): ReferenceBackend {
  const handles = new HandleRegistry<ReferenceTensor, ReferenceSaved>('bound');
  return handles.guard({
    name: 'bound',
    specificationVersion: 'v2',
    dtype: 'float64',
    details: {},
    upload: (data, shape) => referenceTensor(Float64Array.from(data), shape),
    read: async (t) => t.data.slice(),
    readSync: (t) => t.data.slice(),
    dispose() {},
    disposeSaved() {},
    destroy() {},
    // the type check of this spread is the point: bound kernels have the contract's signatures
    ...bindKernels(ctx, recordingKernels(), around === undefined ? {} : { around }),
  } satisfies Omit<ReferenceBackend, 'isTensor'>);
}

describe('bindKernels', () => {
  it('calls each kernel with the context first and the arguments unchanged, and returns its result', () => {
    const ctx = new Recorder();
    const bound = boundBackend(ctx);
    const reference = createReferenceBackend();
    const a = Float64Array.of(1, -2, 3, 0.5, -0.25, 4);
    const b = Float64Array.of(2, 1, -1, 3, 0, -2);
    const ours = bound.matMul(bound.upload(a, [2, 3]), bound.upload(b, [2, 3]), { transposeB: true });
    const theirs = reference.matMul(reference.upload(a, [2, 3]), reference.upload(b, [2, 3]), { transposeB: true });
    expect(ours.shape).toEqual([2, 2]);
    expect(bound.readSync(ours)).toEqual(reference.readSync(theirs));
    const x = bound.upload(a, [3, 2]);
    const { y } = bound.batchNormForwardTraining({ x, gamma: bound.upload(Float64Array.of(1, 2), [2]), beta: bound.upload(Float64Array.of(0, 1), [2]) }, { layout: 'NC', epsilon: 1e-5 });
    // the guard registered what the bound kernel returned
    expect(bound.isTensor(y)).toBe(true);
    expect(ctx.calls).toEqual(['matMul', 'batchNormForwardTraining']);
  });

  it('binds every kernel of the contract and nothing else', () => {
    const bound = bindKernels(new Recorder(), recordingKernels());
    expect(Object.keys(bound).sort()).toEqual([...KERNEL_NAMES].sort());
  });

  it('runs each call inside `around`, named, and returns what the kernel returned', () => {
    const ctx = new Recorder();
    const seen: string[] = [];
    const bound = boundBackend(ctx, (kernel, run) => {
      seen.push(`before ${kernel} (${ctx.calls.length} calls)`);
      const result = run();
      seen.push(`after ${kernel} (${ctx.calls.length} calls)`);
      return result;
    });
    const x = bound.upload(Float64Array.of(-1, 2, -3, 4), [2, 2]);
    expect(bound.readSync(bound.relu(x))).toEqual(Float64Array.of(0, 2, 0, 4));
    expect(seen).toEqual(['before relu (0 calls)', 'after relu (1 calls)']);
  });

  it('refuses a table that lacks a kernel or holds a non-function, naming it', () => {
    const { sumRows: _, ...lacking } = recordingKernels();
    expectBatchNormError(() => bindKernels(new Recorder(), lacking as ReturnType<typeof recordingKernels>), 'INVALID_ARGUMENT', 'kernels.sumRows');
    const wrong = { ...recordingKernels(), relu: 'relu' } as unknown as ReturnType<typeof recordingKernels>;
    const error = expectBatchNormError(() => bindKernels(new Recorder(), wrong), 'INVALID_ARGUMENT', 'kernels.relu');
    expect(error.received).toBe('"relu"');
  });

  it('refuses a key that is no kernel of the contract (a misspelling would go unused)', () => {
    const misspelled = { ...recordingKernels(), matmul: recordingKernels().matMul };
    const error = expectBatchNormError(() => bindKernels(new Recorder(), misspelled), 'INVALID_ARGUMENT', 'kernels.matmul');
    expect(error.expected).toContain('batchNormForwardTraining');
  });
});

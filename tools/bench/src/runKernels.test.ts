import { createReferenceBackend, type Backend } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { makeInputs } from './data.js';
import { expectationsFor } from './expected.js';
import { runKernelCase } from './runKernels.js';
import { contractSubject, residentWait } from './subjects/contractSubject.js';
import type { KernelSubject } from './subjects/subject.js';

const fastPlan = () => ({ warmupIterations: 0, minIterations: 3, timeBudgetMs: 0, rounds: 2 });
const options = { quick: true, log: () => {}, plan: fastPlan };

/** The reference backend with its training forward's y nudged by 0.01 at one element, counting calls. */
function slightlyWrongSubject(): KernelSubject & { calls: number } {
  const inner = contractSubject(createReferenceBackend());
  const subject = {
    name: 'wrong',
    details: {},
    calls: 0,
    async prepare(...args: Parameters<KernelSubject['prepare']>) {
      const prepared = await inner.prepare(...args);
      return {
        isAsync: true,
        run: async () => {
          subject.calls++;
          const outputs = await prepared.run();
          const y = Float64Array.from(outputs.y ?? []);
          y[y.length - 1]! += 0.01;
          return { ...outputs, y };
        },
        resident: prepared.resident,
        dispose: () => prepared.dispose(),
      };
    },
    destroy() {},
  };
  return subject;
}

/**
 * The reference backend, counting its reads and, when `gpu` is set, posing as a GPU backend:
 * named `gpu`, with webgpu's `onSubmittedWorkDone()` and `stats()`/`resetStats()` (counters of
 * a made-up shape, to show they are passed on whatever their fields).
 */
function instrumented(gpu: boolean) {
  const ref = createReferenceBackend();
  const counts = { reads: 0, waits: 0, kernelCalls: 0 };
  const b = {
    ...ref,
    read: (t: Parameters<typeof ref.read>[0]) => (counts.reads++, ref.read(t)),
    readSync: (t: Parameters<typeof ref.readSync>[0]) => (counts.reads++, ref.readSync(t)),
    readInto: undefined,
    batchNormForwardTraining: (...args: Parameters<typeof ref.batchNormForwardTraining>) => (
      counts.kernelCalls++, ref.batchNormForwardTraining(...args)
    ),
    ...(gpu
      ? {
          name: 'gpu',
          completion: 'queued',
          onSubmittedWorkDone: async () => void counts.waits++,
          stats: () => ({ kernels: { batchNormForwardTraining: { calls: counts.kernelCalls, dispatches: 2 * counts.kernelCalls, gpuMs: 0.5 } }, submits: 7 }),
          resetStats: () => void (counts.kernelCalls = 0),
        }
      : {}),
  } as unknown as Backend;
  return { b, counts };
}

describe('the correctness gate', () => {
  for (const shape of [
    { layout: 'NC', shape: [60, 100] },
    { layout: 'NCHW', shape: [2, 3, 4, 5] },
  ] as const) {
    it(`reports a backend with a wrong result as failed and never times it (${shape.layout})`, async () => {
      const inputs = makeInputs(shape);
      const subject = slightlyWrongSubject();
      const { results } = await runKernelCase(subject, 'forwardTraining', inputs, expectationsFor(inputs), 1, options);
      expect(results).toHaveLength(1);
      expect(results[0]!.error).toMatch(/^wrong result, not timed: y\[/);
      expect(results[0]!.medianMs).toBeUndefined();
      expect(subject.calls).toBe(1);
    });
  }

  it('times a correct backend after checking it, read back and resident, on every kernel', async () => {
    const inputs = makeInputs({ layout: 'NHWC', shape: [2, 3, 3, 4] });
    const expected = expectationsFor(inputs);
    for (const op of ['forwardTraining', 'forwardInference', 'backward'] as const) {
      const { results, skipped } = await runKernelCase(contractSubject(createReferenceBackend()), op, inputs, expected, 0.5, options);
      expect(skipped).toEqual([]);
      expect(results.map((r) => r.readBack)).toEqual([true, false]);
      for (const result of results) {
        expect(result.error).toBeUndefined();
        expect(result.medianMs).toBeGreaterThan(0);
        expect(result.ratioToCopy).toBeCloseTo(result.medianMs! / 0.5, 10);
        expect(result.samples).toBeGreaterThanOrEqual(2 * 3);
        expect(result.rounds).toBe(2);
        expect(result.minMs!).toBeLessThanOrEqual(result.medianMs!);
        expect(result.maxMs!).toBeGreaterThanOrEqual(result.medianMs!);
        expect(result.spread).toBeCloseTo(result.maxMs! / result.minMs! - 1, 10);
        expect(result.unstable).toBe(result.spread! > 0.2);
        expect(result.ratioToFloor).toBeGreaterThan(0);
      }
    }
  });

  it('a resident call reads nothing back; a read-back call reads every output', async () => {
    const inputs = makeInputs({ layout: 'NC', shape: [6, 3] });
    const { b, counts } = instrumented(false);
    const prepared = await contractSubject(b).prepare('forwardTraining', inputs);
    if ('unavailable' in prepared.resident) throw new Error(prepared.resident.unavailable);
    const before = counts.reads;
    await prepared.resident.run();
    await prepared.resident.run();
    expect(counts.reads).toBe(before);
    await prepared.run();
    expect(counts.reads).toBe(before + 3); // y, mean, variance
    prepared.dispose();
  });

  it('a GPU-like backend: resident calls wait on onSubmittedWorkDone, and its counters come with each result', async () => {
    const inputs = makeInputs({ layout: 'NC', shape: [6, 3] });
    const { b, counts } = instrumented(true);
    const subject = contractSubject(b);
    expect(subject.resident).toContain('onSubmittedWorkDone');
    const prepared = await subject.prepare('forwardTraining', inputs);
    expect('unavailable' in prepared.resident).toBe(false);
    if (!('unavailable' in prepared.resident)) {
      expect(prepared.resident.isAsync).toBe(true);
      const waits = counts.waits;
      await prepared.resident.run();
      expect(counts.waits).toBe(waits + 1);
    }
    prepared.dispose();
    const { results } = await runKernelCase(subject, 'forwardTraining', inputs, expectationsFor(inputs), 1, options);
    // One counted call per mode, after the timing: the kernel's own entry, and the top level as is.
    for (const r of results) expect(r.counters).toEqual({ kernel: { calls: 1, dispatches: 2, gpuMs: 0.5 }, submits: 7 });
  });

  it('a backend that says its calls complete on return is timed resident with no wait, whatever its name', () => {
    const ref = createReferenceBackend();
    for (const b of [
      { ...ref, name: 'somecpu' },
      { ...ref, name: 'gpujs', details: { mode: 'cpu' } },
    ] as unknown as Backend[]) {
      expect(b.completion).toBe('on-return');
      const wait = residentWait(b, 'device');
      expect(wait).toMatchObject({ how: expect.stringContaining('synchronous') });
      expect('wait' in wait && wait.wait !== undefined).toBe(false);
    }
  });

  it('a backend with no way to wait for its work is timed read back only, with the reason as a skip', async () => {
    const { completion: _, ...ref } = createReferenceBackend();
    const gl = { ...ref, name: 'gpujs', details: { mode: 'headlessgl' }, completion: 'queued' } as unknown as Backend;
    expect(residentWait(gl)).toEqual({ unavailable: expect.stringContaining('gpujs queues its work') });
    const unknown = { ...ref, name: 'somegpu' } as unknown as Backend;
    expect(residentWait(unknown)).toEqual({ unavailable: expect.stringContaining('says not how its calls complete') });
    // a backend that predates `completion`, whose manifest says host-resident
    expect(residentWait(unknown, 'host')).toMatchObject({ how: expect.stringContaining('host-resident') });
    expect('unavailable' in residentWait(unknown, 'device')).toBe(true);
    // a queued backend is not taken for a host one by its manifest
    expect('unavailable' in residentWait(gl, 'host')).toBe(true);
    // one that predates `completion` but can wait for its work is waited for
    const waits = { ...ref, name: 'oldgpu', onSubmittedWorkDone: async () => {} } as unknown as Backend;
    expect(residentWait(waits, 'device')).toMatchObject({ wait: expect.any(Function), how: expect.stringContaining('onSubmittedWorkDone') });
    const inputs = makeInputs({ layout: 'NC', shape: [6, 3] });
    const { results, skipped } = await runKernelCase(contractSubject(gl), 'forwardInference', inputs, expectationsFor(inputs), 1, options);
    expect(results.map((r) => [r.readBack, r.error])).toEqual([[true, undefined]]);
    expect(skipped).toEqual([
      { backend: 'gpujs', op: 'forwardInference', layout: 'NC', shape: [6, 3], readBack: false, reason: expect.stringContaining('not timed resident') },
    ]);
  });

  it('--mode resident times the resident form only', async () => {
    const inputs = makeInputs({ layout: 'NC', shape: [6, 3] });
    const { results } = await runKernelCase(contractSubject(createReferenceBackend()), 'backward', inputs, expectationsFor(inputs), 1, {
      ...options,
      modes: { readBack: false, resident: true },
    });
    expect(results.map((r) => r.readBack)).toEqual([false]);
  });

  it('reports a kernel that throws as failed', async () => {
    const inputs = makeInputs({ layout: 'NC', shape: [4, 3] });
    const throwing: KernelSubject = {
      name: 'throws',
      details: {},
      prepare: async () => ({
        isAsync: false,
        run: () => {
          throw new Error('kernel exploded');
        },
        resident: { unavailable: 'never reached' },
        dispose() {},
      }),
      destroy() {},
    };
    const { results } = await runKernelCase(throwing, 'backward', inputs, expectationsFor(inputs), 1, options);
    expect(results.map((r) => r.error)).toEqual(['failed: kernel exploded']);
  });
});

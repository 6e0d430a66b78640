import { BatchNorm, BatchNormError, geometryOf, type Layout, type Shape, type TensorData } from '@batchnorm/core';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchInput, bitDifferences, internalBackend, randomValues, reference } from './__tests__/helpers.js';
import { createBackend } from './index.js';
import type { WebGpuBackend } from './types.js';

let backend: WebGpuBackend;
beforeAll(async () => {
  backend = await createBackend();
});
afterAll(() => backend?.destroy());

function upload(b: WebGpuBackend, values: Float64Array, shape: Shape) {
  return b.upload(Float32Array.from(values), shape);
}

describe('createBackend', () => {
  it('names the adapter, the API, the feature level and the subgroup path in details', () => {
    const d = backend.details;
    expect(backend.name).toBe('webgpu');
    expect(backend.specificationVersion).toBe('v2');
    expect(backend.dtype).toBe('float32');
    expect(typeof d['adapter']).toBe('string');
    expect(d['adapter']).not.toBe('');
    expect(['dawn', 'navigator.gpu']).toContain(d['api']);
    expect(['core', 'compatibility']).toContain(d['featureLevel']);
    expect(String(d['subgroups'])).toMatch(/^(subgroupAdd|off)/);
    expect(d['workgroupSize']).toBeGreaterThanOrEqual(64);
  });

  it('on Dawn\'s OpenGL backend, has set EGL_PLATFORM=surfaceless itself (it was unset)', () => {
    if (backend.details['dawnFlags'] !== 'backend=opengl') return;
    expect(process.env['EGL_PLATFORM']).toBe('surfaceless');
  });

  it('with no adapter, rejects with BACKEND_UNAVAILABLE naming the packages and EGL_PLATFORM (a child process)', () => {
    // EGL_PLATFORM=x11 with no X display: Mesa's EGL cannot start, so OpenGL gives no adapter
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { createBackend } = await import(${JSON.stringify(entry)});
      try {
        const b = await createBackend({ dawnFlags: ['backend=opengl'] });
        console.log(JSON.stringify({ adapter: b.details.adapter }));
        b.destroy();
      } catch (e) {
        console.log(JSON.stringify({ name: e.name, code: e.code, argument: e.argument, received: e.received, hint: e.hint }));
      }`;
    const { DISPLAY: _display, WAYLAND_DISPLAY: _wayland, ...env } = process.env;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...env, EGL_PLATFORM: 'x11' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const outcome = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(outcome).toMatchObject({ name: 'BatchNormError', code: 'BACKEND_UNAVAILABLE', argument: 'webgpu' });
    expect(outcome.received).toContain('no adapter');
    expect(outcome.hint).toContain('libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri');
    expect(outcome.hint).toContain('EGL_PLATFORM=surfaceless');
    expect(outcome.hint).toContain('"x11"');
  });

  it('declares no synchronous read (WebGPU has none)', () => {
    expect('readSync' in backend).toBe(false);
    expect('readInto' in backend).toBe(false);
  });

  it.each([
    [null, 'options'],
    [{ subgroups: 'yes' }, 'options.subgroups'],
    [{ poolBytes: -1 }, 'options.poolBytes'],
    [{ dawnFlags: 'backend=opengl' }, 'options.dawnFlags'],
    [{ powerPreference: 'fast' }, 'options.powerPreference'],
  ])('rejects bad options %j with a typed error naming %s', async (options, argument) => {
    const error: unknown = await createBackend(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchNormError);
    expect((error as BatchNormError).code).toBe('INVALID_ARGUMENT');
    expect((error as BatchNormError).argument).toBe(argument);
  });

  it('subgroups: false runs the workgroup-memory tree and says so', async () => {
    const b = await createBackend({ subgroups: false });
    try {
      expect(b.details['subgroups']).toBe('off (option subgroups: false)');
    } finally {
      b.destroy();
    }
  });
});

describe('read', () => {
  it('captures the values at the call: the tensor may be disposed right after', async () => {
    const t = backend.upload(Float32Array.of(1, 2, 3), [3]);
    const pending = backend.read(t);
    backend.dispose(t);
    // the pool hands the same buffer to the next tensor of that size: it must not leak into the read
    const other = backend.upload(Float32Array.of(7, 8, 9), [3]);
    expect(Array.from(await pending)).toEqual([1, 2, 3]);
    expect(Array.from(await backend.read(other))).toEqual([7, 8, 9]);
    backend.dispose(other);
  });

  it('captures the values before a later in-place sgdUpdate', async () => {
    const param = backend.upload(Float32Array.of(1, 1), [2]);
    const grad = backend.upload(Float32Array.of(1, 2), [2]);
    const before = backend.read(param);
    const after = backend.sgdUpdate(param, grad, { learningRate: 0.5 });
    expect(Array.from(await before)).toEqual([1, 1]);
    expect(Array.from(await backend.read(after))).toEqual([0.5, 0]);
    backend.dispose(after);
    backend.dispose(grad);
  });

  it('rejects a disposed tensor and a look-alike with INVALID_HANDLE naming the argument', async () => {
    const t = backend.upload(Float32Array.of(1), [1]);
    backend.dispose(t);
    backend.dispose(t); // twice is allowed
    await expect(backend.read(t)).rejects.toMatchObject({ code: 'INVALID_HANDLE', argument: 't' });
    await expect(backend.read({ shape: [1] } as never)).rejects.toMatchObject({ code: 'INVALID_HANDLE', argument: 't' });
    expect(backend.isTensor(t)).toBe(false);
    expect(backend.isTensor({ shape: [1] })).toBe(false);
    expect(() => backend.relu(t)).toThrow(expect.objectContaining({ code: 'INVALID_HANDLE', argument: 'x' }));
    expect(() => backend.dispose({ shape: [1] } as never)).toThrow(expect.objectContaining({ code: 'INVALID_HANDLE', argument: 't' }));
    expect(() => backend.disposeSaved({ mean: [] } as never)).toThrow(expect.objectContaining({ code: 'INVALID_HANDLE', argument: 'saved' }));
  });

  it('refuses the tensors and saved values of a second instance (another device), and leaves them alive', async () => {
    const other = await createBackend();
    try {
      const theirs = other.upload(Float32Array.of(1, -2), [2]);
      const ours = backend.upload(Float32Array.of(3, 4), [2]);
      const refused = expect.objectContaining({ code: 'INVALID_HANDLE', argument: 'x' });
      expect(backend.isTensor(theirs)).toBe(false);
      expect(other.isTensor(theirs)).toBe(true);
      expect(() => backend.reluBackward(ours, theirs)).toThrow(refused);
      expect(() => backend.dispose(theirs)).toThrow(expect.objectContaining({ code: 'INVALID_HANDLE', argument: 't' }));
      await expect(backend.read(theirs)).rejects.toMatchObject({ code: 'INVALID_HANDLE', argument: 't' });
      const x = other.upload(Float32Array.of(1, 2, 3, 4), [2, 2]);
      const { y, mean, variance, saved } = other.batchNormForwardTraining({ x, gamma: theirs, beta: theirs }, { layout: 'NC', epsilon: 1e-5 });
      const mine = backend.upload(Float32Array.of(1, 2, 3, 4), [2, 2]);
      expect(() => backend.batchNormBackward({ dy: mine, x: mine, gamma: ours, saved }, { layout: 'NC', epsilon: 1e-5 })).toThrow(
        expect.objectContaining({ code: 'INVALID_HANDLE', argument: 'saved' }),
      );
      expect(() => backend.disposeSaved(saved)).toThrow(expect.objectContaining({ argument: 'saved' }));
      expect(saved.isDisposed).toBe(false);
      expect(Array.from(await other.read(theirs))).toEqual([1, -2]);
      expect(backend.stats().uncapturedErrors).toBe(0);
      for (const t of [ours, mine]) backend.dispose(t);
      other.disposeSaved(saved);
      for (const t of [theirs, x, y, mean, variance]) other.dispose(t);
    } finally {
      other.destroy();
    }
  });

  it('hands out frozen handles: a shape cannot be changed after the fact', () => {
    const t = backend.upload(Float32Array.of(1, 2, 3, 4), [2, 2]);
    const mutable = t as unknown as { shape: number[] };
    expect(() => (mutable.shape[0] = 7)).toThrow(TypeError);
    expect(() => (mutable.shape = [4])).toThrow(TypeError);
    expect(() => Object.defineProperty(t, 'shape', { value: [4] })).toThrow(TypeError);
    expect(t.shape).toEqual([2, 2]);
    backend.dispose(t);
  });

  it('reads a Float64Array upload as float32', async () => {
    const t = backend.upload(Float64Array.of(0.1, 1e4 + 0.25), [2]);
    expect(Array.from(await backend.read(t))).toEqual([Math.fround(0.1), Math.fround(1e4 + 0.25)]);
    backend.dispose(t);
  });
});

describe('saved', () => {
  const layout: Layout = 'NHWC';
  const shape = [4, 5, 5, 3];
  const g = geometryOf(layout, shape);
  const attrs = { layout, epsilon: 1e-5 };

  it('outlives y, mean and variance, serves two backwards with the same bits, and is released once', async () => {
    const x = upload(backend, batchInput(layout, shape, 'unit', 1), shape);
    const gamma = upload(backend, randomValues(2, g.c, 0.5, 1), [g.c]);
    const beta = upload(backend, randomValues(3, g.c), [g.c]);
    const dy = upload(backend, randomValues(4, g.size), shape);
    const out = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
    for (const t of [out.y, out.mean, out.variance]) backend.dispose(t);
    const first = backend.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
    const second = backend.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
    const [dx1, dx2] = await Promise.all([backend.read(first.dx), backend.read(second.dx)]);
    expect(bitDifferences(dx1!, dx2!)).toBe(0);
    expect(out.saved.channels).toBe(g.c);
    backend.disposeSaved(out.saved);
    backend.disposeSaved(out.saved); // twice is allowed
    expect(out.saved.isDisposed).toBe(true);
    expect(() => backend.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs)).toThrow(
      expect.objectContaining({ code: 'INVALID_HANDLE', argument: 'saved' }),
    );
    for (const t of [x, gamma, beta, dy, first.dx, first.dgamma, first.dbeta, second.dx, second.dgamma, second.dbeta]) backend.dispose(t);
  });

  it('refuses the saved value of a forward over another number of features', () => {
    const x = upload(backend, batchInput(layout, shape, 'unit', 5), shape);
    const gamma = upload(backend, randomValues(6, g.c), [g.c]);
    const beta = upload(backend, randomValues(7, g.c), [g.c]);
    const out = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const wider = [4, 5, 5, 4];
    const x2 = upload(backend, randomValues(8, 400), wider);
    expect(() => backend.batchNormBackward({ dy: x2, x: x2, gamma, saved: out.saved }, attrs)).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH', argument: 'saved' }),
    );
    backend.disposeSaved(out.saved);
    for (const t of [x, gamma, beta, x2, out.y, out.mean, out.variance]) backend.dispose(t);
  });
});

describe('determinism: no float atomics, every sum in a fixed order', () => {
  async function step(b: WebGpuBackend, layout: Layout, shape: Shape) {
    const g = geometryOf(layout, shape);
    const x = upload(b, batchInput(layout, shape, 'mixed', 11), shape);
    const gamma = upload(b, randomValues(12, g.c, 0.5, 1), [g.c]);
    const beta = upload(b, randomValues(13, g.c), [g.c]);
    const dy = upload(b, randomValues(14, g.size), shape);
    const attrs = { layout, epsilon: 1e-5 };
    const out = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const grads = b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
    const rows = g.size / g.c;
    const matrix = b.upload(Float32Array.from(randomValues(15, g.size)), [rows, g.c]);
    const left = b.upload(Float32Array.from(randomValues(16, 64 * 96)), [96, 64]);
    const right = b.upload(Float32Array.from(randomValues(17, 96 * 80)), [96, 80]);
    const product = b.matMul(left, right, { transposeA: true });
    const columnSums = b.sumRows(matrix);
    const labels = b.upload(new Float32Array(g.size).fill(1 / g.c), [rows, g.c]);
    const { loss } = b.softmaxCrossEntropy(matrix, labels);
    const tensors = [out.y, out.mean, out.variance, grads.dx, grads.dgamma, grads.dbeta, product, columnSums, loss];
    const values = await Promise.all(tensors.map((t) => b.read(t)));
    b.disposeSaved(out.saved);
    for (const t of [x, gamma, beta, dy, matrix, left, right, labels, ...tensors]) b.dispose(t);
    return values;
  }

  const NAMES = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta', 'matMul', 'sumRows', 'loss'];
  function expectSameBits(got: readonly TensorData[], want: readonly TensorData[]): void {
    NAMES.forEach((name, i) => expect(bitDifferences(got[i]!, want[i]!), `${name}: values differing in any bit`).toBe(0));
  }

  // many chunks per feature (so the second pass merges 60+ partials) and a channels-last layout
  const cases: [Layout, Shape][] = [
    ['NCHW', [16, 4, 64, 64]],
    ['NHWC', [16, 64, 64, 4]],
  ];
  it.each(cases)('%s %j: forward, backward, matMul, sumRows and softmax give the same bits 3 times and on a second device', async (layout, shape) => {
    const first = await step(backend, layout, shape);
    for (let run = 0; run < 2; run++) expectSameBits(await step(backend, layout, shape), first);
    const other = await createBackend();
    try {
      expectSameBits(await step(other, layout, shape), first);
    } finally {
      other.destroy();
    }
  });
});

describe('counters', () => {
  it('count 2 dispatches for the training forward, 2 for backward, 1 for inference, and the bytes they move', async () => {
    const layout: Layout = 'NCHW';
    const shape = [2, 3, 4, 5];
    const g = geometryOf(layout, shape);
    const attrs = { layout, epsilon: 1e-5 };
    const x = upload(backend, randomValues(1, g.size), shape);
    const v = upload(backend, randomValues(2, g.c, 0.1, 1), [g.c]);
    backend.resetStats();
    const out = backend.batchNormForwardTraining({ x, gamma: v, beta: v }, attrs);
    const y = backend.batchNormForwardInference({ x, gamma: v, beta: v, mean: out.mean, variance: out.variance }, attrs);
    const grads = backend.batchNormBackward({ dy: x, x, gamma: v, saved: out.saved }, attrs);
    await backend.read(grads.dx);
    const stats = backend.stats();
    expect(stats.kernels.batchNormForwardTraining).toMatchObject({ calls: 1, dispatches: 2 });
    expect(stats.kernels.batchNormBackward).toMatchObject({ calls: 1, dispatches: 2 });
    expect(stats.kernels.batchNormForwardInference).toMatchObject({ calls: 1, dispatches: 1 });
    // training forward reads x twice (statistics, then normalize) and writes y once, at least
    expect(stats.kernels.batchNormForwardTraining.bytesRead).toBeGreaterThanOrEqual(2 * g.size * 4);
    expect(stats.kernels.batchNormForwardTraining.bytesWritten).toBeGreaterThanOrEqual(g.size * 4);
    expect(stats.kernels.batchNormBackward.bytesRead).toBeGreaterThanOrEqual(4 * g.size * 4);
    expect(stats.submits).toBe(4); // three kernel calls and one read
    expect(stats.reads).toMatchObject({ count: 1, bytes: g.size * 4 });
    expect(stats.uncapturedErrors).toBe(0);
    backend.disposeSaved(out.saved);
    for (const t of [x, v, y, out.y, out.mean, out.variance, grads.dx, grads.dgamma, grads.dbeta]) backend.dispose(t);
  });

  it('split the time per kernel into submit (CPU) and GPU, say why GPU time is missing, and time the reads', async () => {
    const shape = [64, 32];
    const attrs = { layout: 'NC' as const, epsilon: 1e-5 };
    const x = upload(backend, randomValues(1, 64 * 32), shape);
    const v = upload(backend, randomValues(2, 32), [32]);
    backend.resetStats();
    const out = backend.batchNormForwardTraining({ x, gamma: v, beta: v }, attrs);
    await backend.read(out.y);
    await backend.onSubmittedWorkDone();
    const stats = backend.stats();
    const forward = stats.kernels.batchNormForwardTraining;
    expect(forward.submitMs).toBeGreaterThan(0);
    expect(stats.kernels.matMul.submitMs).toBe(0);
    expect(stats.reads.ms).toBeGreaterThan(0);
    if (backend.details['features']?.toString().split(' ').includes('timestamp-query')) {
      expect(stats.gpuTime).toBe('timestamp-query');
      expect(forward.gpuMs).toBeGreaterThan(0);
    } else {
      // Dawn's OpenGL adapter here: no timestamp queries, and stats say so per kernel
      expect(stats.gpuTime).toBe('unavailable: no timestamp-query');
      expect(forward.gpuMs).toBe('unavailable: no timestamp-query');
    }
    backend.resetStats();
    expect(backend.stats().kernels.batchNormForwardTraining.submitMs).toBe(0);
    expect(backend.stats().reads).toEqual({ count: 0, bytes: 0, ms: 0 });
    backend.disposeSaved(out.saved);
    for (const t of [x, v, out.y, out.mean, out.variance]) backend.dispose(t);
  });

  it('refuse a timestamps option that is not a boolean', async () => {
    await expect(createBackend({ timestamps: 'yes' as unknown as boolean })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      argument: 'options.timestamps',
    });
  });

  it('refuse an option key it does not know, naming it and the near one', async () => {
    // @ts-expect-error -- `subgroup` is not an option (a typo of `subgroups`)
    await expect(createBackend({ subgroup: false })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      argument: 'options.subgroup',
      hint: 'Did you mean "subgroups"?',
    });
  });

  it('reuse pooled buffers: a steady training step creates no new buffer', async () => {
    const shape = [8, 16];
    const attrs = { layout: 'NC' as const, epsilon: 1e-5 };
    const run = async () => {
      const x = upload(backend, randomValues(1, 128), shape);
      const v = upload(backend, randomValues(2, 16), [16]);
      const out = backend.batchNormForwardTraining({ x, gamma: v, beta: v }, attrs);
      const grads = backend.batchNormBackward({ dy: out.y, x, gamma: v, saved: out.saved }, attrs);
      await backend.read(grads.dx);
      backend.disposeSaved(out.saved);
      for (const t of [x, v, out.y, out.mean, out.variance, grads.dx, grads.dgamma, grads.dbeta]) backend.dispose(t);
    };
    await run();
    backend.resetStats();
    await run();
    expect(backend.stats().buffersCreated).toBe(0);
  });
});

describe('the layer on webgpu', () => {
  it('trains, reads its state asynchronously and agrees with the reference', async () => {
    const layout: Layout = 'NCHW';
    const shape = [4, 3, 5, 5];
    const g = geometryOf(layout, shape);
    const options = { numFeatures: g.c, layout, momentum: 0.1, gamma: [1, 0.5, 2], beta: [0, 1, -1] };
    const ours = new BatchNorm(backend, options);
    const ref = new BatchNorm(reference, options);
    for (let step = 0; step < 3; step++) {
      const xv = batchInput(layout, shape, 'offset1e4', 40 + step);
      const dyv = randomValues(50 + step, g.size);
      const x = upload(backend, xv, shape);
      const dy = upload(backend, dyv, shape);
      const y = ours.forward(x);
      const dx = ours.backward(dy);
      ours.sgdStep(0.1);
      const rx = reference.upload(xv, shape);
      ref.forward(rx);
      ref.backward(reference.upload(dyv, shape));
      ref.sgdStep(0.1);
      for (const t of [x, dy, y, dx]) backend.dispose(t);
    }
    const [got, want] = [await ours.state(), await ref.state()];
    expect(got.numBatchesTracked).toBe(3);
    for (const key of ['gamma', 'beta', 'runningMean', 'runningVar'] as const) {
      got[key].forEach((value, i) => expect(value, `${key}[${i}]`).toBeCloseTo(want[key][i]!, 3));
    }
    ours.dispose();
    ref.dispose();
  });

  it('rejects a batch with a NaN when its check settles (asynchronous reads)', async () => {
    const layer = new BatchNorm(backend, { numFeatures: 2, layout: 'NC' });
    const x = backend.upload(Float32Array.of(1, 2, Number.NaN, 4), [2, 2]);
    backend.dispose(layer.forward(x));
    await expect(layer.settle()).rejects.toMatchObject({ code: 'NON_FINITE_INPUT' });
    expect((await layer.state()).numBatchesTracked).toBe(0);
    backend.dispose(x);
    layer.dispose();
  });
});

describe('limits and device loss', () => {
  it('a tensor over the device maxStorageBufferBindingSize is refused with NOT_SUPPORTED, not a device error', () => {
    const limit = Number(backend.details['maxStorageBufferBindingSize']);
    expect(limit).toBeGreaterThan(0);
    // an upload one value over the limit (WebGPU cannot lower a limit below its default, so the
    // test uses the device's own)
    const values = new Float32Array(limit / 4 + 1);
    expect(() => backend.upload(values, [values.length])).toThrow(
      expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'data', expected: expect.stringContaining(String(limit)) }),
    );
    // an output over the limit from small inputs: an outer product [k, 1]·[1, k]
    const k = Math.ceil(Math.sqrt(limit / 4)) + 1;
    const column = backend.upload(new Float32Array(k).fill(1), [k, 1]);
    const row = backend.upload(new Float32Array(k).fill(1), [1, k]);
    expect(() => backend.matMul(column, row)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'out' }));
    expect(backend.stats().uncapturedErrors).toBe(0);
    backend.dispose(column);
    backend.dispose(row);
  });

  it('a lost device is a typed BACKEND_UNAVAILABLE naming the cause, for kernels and pending reads', async () => {
    const { backend: b, device } = await internalBackend();
    const t = b.upload(Float32Array.of(1, 2), [2]);
    device.destroy();
    await device.lost;
    expect(() => b.relu(t)).toThrow(
      expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', argument: 'device', received: expect.stringContaining('destroyed') }),
    );
    expect(() => b.upload(Float32Array.of(1), [1])).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
    await expect(b.read(t)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    b.dispose(t); // releasing after the loss is harmless
    b.destroy();
  });

  it('after destroy() every call is a typed error saying so', async () => {
    const b = await createBackend();
    const t = b.upload(Float32Array.of(1), [1]);
    b.destroy();
    expect(() => b.sigmoid(t)).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', hint: expect.stringContaining('destroyed') }));
    b.dispose(t);
    b.destroy(); // twice is harmless
  });
});

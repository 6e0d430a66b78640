import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  asyncOnly,
  BatchNorm,
  BatchNormError,
  createReferenceBackend,
  geometryOf,
  KNOWN_BACKENDS,
  LAYOUTS,
  loadBackend,
  loadBackendModule,
  SPECIFICATION_VERSION,
  type Backend,
  type Layout,
  type SyncBackend,
} from '@batchnorm/core';
import * as api from './index.js';
import { backendModule, createBackend, type JsSaved, type JsTensor } from './index.js';
import { expectAllClose, randomFloat32 } from './__tests__/helpers.js';

function expectBatchNormError(run: () => unknown, code: string, argument: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BatchNormError);
  expect((caught as BatchNormError).code).toBe(code);
  expect((caught as BatchNormError).argument).toBe(argument);
}

describe('js backend: identity and options', () => {
  it('exports its manifest, which agrees with core\'s list of backend packages', () => {
    expect(backendModule.name).toBe('js');
    expect(backendModule.packageName).toBe('@batchnorm/backend-js');
    expect(KNOWN_BACKENDS).toContainEqual({ name: backendModule.name, packageName: backendModule.packageName });
    expect(backendModule.createBackend).toBe(createBackend);
    expect('backendName' in api).toBe(false); // v1's export, replaced by the manifest
    expect(backendModule.traits).toEqual({ residence: 'host', tolerance: 'float32', requires: [], environments: ['node', 'browser'] });
    const backend = createBackend({ threads: 1 });
    expect(backend.name).toBe('js');
    expect(backend.dtype).toBe('float32');
    expect(backend.specificationVersion).toBe(SPECIFICATION_VERSION);
    backend.destroy();
  });

  it('loads through the core registry by name', async () => {
    const importer = (s: string) => import(s === '@batchnorm/backend-js' ? './index.js' : s);
    expect(await loadBackendModule('js', importer)).toBe(backendModule);
    const backend = await loadBackend('js', { threads: 1 }, importer);
    expect(backend.name).toBe('js');
    backend.destroy();
  });

  it('declares the synchronous reads in its type: a layer over it has stateSync()', () => {
    // Compile-time checks: `pnpm typecheck` fails if readSync or readInto become optional.
    const backend: SyncBackend<JsTensor, JsSaved> & Required<Pick<Backend<JsTensor>, 'readInto'>> = createBackend({
      threads: 1,
    });
    const layer = new BatchNorm(createBackend({ threads: 1 }), { numFeatures: 3 });
    expect(layer.stateSync().gamma).toEqual([1, 1, 1]);
    layer.dispose();
    layer.backend.destroy();
    backend.destroy();
  });

  it.each([
    [{ threads: 0 }, 'options.threads'],
    [{ threads: 1.5 }, 'options.threads'],
    [{ parallelMinElements: -1 }, 'options.parallelMinElements'],
    [{ poolBytes: 'lots' as unknown as number }, 'options.poolBytes'],
    [{ simd: 'yes' as unknown as boolean }, 'options.simd'],
  ])('rejects bad options %j', (options, argument) => {
    expectBatchNormError(() => createBackend(options), 'INVALID_ARGUMENT', argument);
  });

  it('rejects upload data that does not match its shape', () => {
    const backend = createBackend({ threads: 1 });
    expectBatchNormError(() => backend.upload(new Float32Array(5), [2, 3]), 'SHAPE_MISMATCH', 'data');
    expectBatchNormError(() => backend.upload([1, 2] as unknown as Float32Array, [2]), 'INVALID_ARGUMENT', 'data');
    backend.destroy();
  });

  it('upload copies: later changes to the caller’s array do not reach the tensor', () => {
    const backend = createBackend({ threads: 1 });
    const data = Float32Array.of(1, 2, 3);
    const t = backend.upload(data, [3]);
    data[0] = 99;
    expect(Array.from(backend.readSync(t))).toEqual([1, 2, 3]);
    backend.destroy();
  });
});

describe('js backend: buffer pool and disposal', () => {
  it('reuses a disposed buffer for the next output of the same size', () => {
    const backend = createBackend({ threads: 1 });
    const x = backend.upload(randomFloat32(1, 12), [3, 4]);
    const first = backend.relu(x);
    const firstBuffer = first.data;
    backend.dispose(first);
    expect(backend.poolStats().buffers).toBe(1);
    const second = backend.sigmoid(x);
    expect(second.data).toBe(firstBuffer);
    expect(backend.poolStats().buffers).toBe(0);
    backend.destroy();
  });

  it('does not grow across many training steps (every output returned to the pool)', () => {
    const backend = createBackend({ threads: 1 });
    const shape = [16, 8];
    const x = backend.upload(randomFloat32(2, 128), shape);
    const dy = backend.upload(randomFloat32(3, 128), shape);
    const layer = new BatchNorm(backend, { numFeatures: 8 });
    const step = () => {
      const y = layer.forward(x);
      backend.dispose(layer.backward(dy));
      layer.sgdStep(0.1);
      backend.dispose(y);
    };
    // The first step has no earlier saved batch or gradients to release: steady from the second.
    step();
    step();
    const after = backend.poolStats();
    for (let i = 0; i < 50; i++) step();
    expect(backend.poolStats()).toEqual(after);
    layer.dispose();
    backend.destroy();
  });

  it('a disposed tensor cannot be read or used again; disposing twice does nothing', () => {
    const backend = createBackend({ threads: 1 });
    const x = backend.upload(randomFloat32(4, 6), [2, 3]);
    backend.dispose(x);
    expect(x.isDisposed).toBe(true);
    expectBatchNormError(() => backend.readSync(x), 'INVALID_HANDLE', 't');
    expectBatchNormError(() => backend.relu(x), 'INVALID_HANDLE', 'x');
    backend.dispose(x);
    expect(backend.poolStats().buffers).toBe(1);
    backend.destroy();
  });

  it('poolBytes: 0 keeps nothing for reuse', () => {
    const backend = createBackend({ threads: 1, poolBytes: 0 });
    backend.dispose(backend.upload(randomFloat32(5, 6), [6]));
    expect(backend.poolStats()).toEqual({ buffers: 0, bytes: 0 });
    backend.destroy();
  });

  it('read resolves to a copy the caller may keep', async () => {
    const backend = createBackend({ threads: 1 });
    const t = backend.upload(Float32Array.of(1, 2), [2]);
    const copy = await backend.read(t);
    backend.dispose(t);
    expect(Array.from(copy)).toEqual([1, 2]);
    backend.destroy();
  });

  it('read captures the values at call time: disposing, reusing or updating the tensor later does not reach it', async () => {
    const backend = createBackend({ threads: 1 });
    const t = backend.upload(Float32Array.of(1, 2), [2]);
    const pending = backend.read(t);
    backend.dispose(t);
    // The next upload of that size takes the very buffer t had.
    const reused = backend.upload(Float32Array.of(7, 8), [2]);
    const param = backend.upload(Float32Array.of(3, 4), [2]);
    const before = backend.read(param);
    backend.sgdUpdate(param, reused, { learningRate: 1 }); // in place
    expect(Array.from(await pending)).toEqual([1, 2]);
    expect(Array.from(await before)).toEqual([3, 4]);
    expect(Array.from(await backend.read(param))).toEqual([-4, -4]);
    await expect(backend.read(t)).rejects.toThrow(BatchNormError);
    backend.destroy();
  });
});

describe('js backend: saved', () => {
  const layout = 'NCDHW';
  const shape = [3, 4, 2, 3, 5];
  const size = 3 * 4 * 2 * 3 * 5;
  const attrs = { layout, epsilon: 1e-5 } as const;
  // A large offset: the float32 mean tensor rounds away digits the float64 saved keeps.
  const xData = randomFloat32(40, size, 1, 1e4);
  const dyData = randomFloat32(41, size);

  function setUp() {
    const backend = createBackend({ threads: 1 });
    const x = backend.upload(xData, shape);
    const dy = backend.upload(dyData, shape);
    const gamma = backend.upload(randomFloat32(42, 4, 0.5, 1), [4]);
    const beta = backend.upload(randomFloat32(43, 4), [4]);
    const forward = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const backward = () => {
      const { dx, dgamma, dbeta } = backend.batchNormBackward({ dy, x, gamma, saved: forward.saved }, attrs);
      return [dx, dgamma, dbeta].map((t) => backend.readSync(t));
    };
    return { backend, x, gamma, forward, backward };
  }

  it('holds the float64 statistics the forward computed (the ones v1 backward read from the mean and variance tensors)', () => {
    const { backend, forward } = setUp();
    expect(Array.from(forward.saved.mean)).toEqual(Array.from(forward.mean.valuesForMath()));
    expect(Array.from(forward.saved.variance)).toEqual(Array.from(forward.variance.valuesForMath()));
    // … which float32 could not hold: otherwise saved would carry nothing the tensors lack.
    expect(Array.from(forward.saved.mean)).not.toEqual(Array.from(backend.readSync(forward.mean)));
    backend.destroy();
  });

  it('stays valid when y, mean and variance are disposed, and serves several backward calls with the same bits', () => {
    const { backend, forward, backward } = setUp();
    const first = backward();
    for (const t of [forward.y, forward.mean, forward.variance]) backend.dispose(t);
    // Tensors of those sizes now reuse their buffers, with other values.
    backend.dispose(backend.upload(new Float32Array(size).fill(-1), shape));
    backend.dispose(backend.upload(new Float32Array(4).fill(-1), [4]));
    expect(backward()).toEqual(first);
    expect(backward()).toEqual(first);
    backend.destroy();
  });

  it('disposeSaved is idempotent; backward then refuses the saved value with INVALID_HANDLE', () => {
    const { backend, forward, backward } = setUp();
    backend.disposeSaved(forward.saved);
    backend.disposeSaved(forward.saved);
    expect(forward.saved.isDisposed).toBe(true);
    expectBatchNormError(backward, 'INVALID_HANDLE', 'saved');
    backend.destroy();
  });

  it("refuses another backend's saved value, and one of another number of features", () => {
    const { backend, x, gamma } = setUp();
    const reference = createReferenceBackend();
    const rx = reference.upload(xData, shape);
    const rg = reference.upload(Float32Array.of(1, 1, 1, 1), [4]);
    const foreign = reference.batchNormForwardTraining({ x: rx, gamma: rg, beta: rg }, attrs).saved;
    const dy = backend.upload(dyData, shape);
    expectBatchNormError(() => backend.batchNormBackward({ dy, x, gamma, saved: foreign as never }, attrs), 'INVALID_HANDLE', 'saved');
    expectBatchNormError(() => backend.disposeSaved(foreign as never), 'INVALID_HANDLE', 'saved');
    const other = backend.upload(randomFloat32(44, 30), [5, 6]);
    const six = backend.upload(new Float32Array(6).fill(1), [6]);
    const { saved } = backend.batchNormForwardTraining({ x: other, gamma: six, beta: six }, { layout: 'NC', epsilon: 1e-5 });
    expectBatchNormError(() => backend.batchNormBackward({ dy, x, gamma, saved }, attrs), 'SHAPE_MISMATCH', 'saved');
    backend.destroy();
  });
});

/** Shapes of every layout with several rows per thread chunk (every tail of the loops too). */
const splitShapes: Record<Layout, number[]> = {
  NC: [129, 37],
  NCL: [9, 5, 42],
  NLC: [9, 42, 5],
  NCHW: [9, 5, 6, 7],
  NHWC: [9, 6, 7, 5],
  NCDHW: [9, 5, 2, 3, 7],
  NDHWC: [9, 2, 3, 7, 5],
};

describe('js backend: threads', () => {
  it('splits large tensors across a helper thread and agrees with one thread', async () => {
    const one = createBackend({ threads: 1 });
    const two = createBackend({ threads: 2, parallelMinElements: 1 });
    await two.whenThreadsReady();
    expect(two.readyHelpers()).toBe(1);
    for (const layout of LAYOUTS) {
      const shape = splitShapes[layout];
      const { c } = geometryOf(layout, shape);
      const data = randomFloat32(6, shape.reduce((a, b) => a * b), 2, 50);
      const dyData = randomFloat32(7, data.length);
      const gamma = randomFloat32(8, c);
      const beta = randomFloat32(9, c);
      const results = [one, two].map((b) => {
        const x = b.upload(data, shape);
        const inputs = { x, gamma: b.upload(gamma, [c]), beta: b.upload(beta, [c]) };
        const attrs = { layout, epsilon: 1e-3 };
        const f = b.batchNormForwardTraining(inputs, attrs);
        const g = b.batchNormBackward({ dy: b.upload(dyData, shape), x, gamma: inputs.gamma, saved: f.saved }, attrs);
        return [f.y, f.mean, f.variance, g.dx, g.dgamma, g.dbeta].map((t) => b.readSync(t));
      });
      // Elementwise outputs must be identical; sums differ only by summation order.
      results[0]!.forEach((want, i) => expectAllClose(results[1]![i]!, want, 1e-6, 1e-6));
    }
    one.destroy();
    two.destroy();
    expect(two.readyHelpers()).toBe(0);
  });

  it('the helper thread takes chunks of a large tensor', async () => {
    const backend = createBackend({ threads: 2 });
    await backend.whenThreadsReady();
    const shape = [2048, 256];
    const x = backend.upload(randomFloat32(10, 2048 * 256), shape);
    const gamma = backend.upload(randomFloat32(11, 256), [256]);
    // The OS may not schedule the helper in time for one call (then the main thread does it
    // all, by design); over a few calls it takes its share.
    for (let i = 0; i < 50 && backend.helperChunks() === 0; i++) {
      const { y, mean, variance, saved } = backend.batchNormForwardTraining({ x, gamma, beta: gamma }, { layout: 'NC', epsilon: 1e-5 });
      for (const t of [y, mean, variance]) backend.dispose(t);
      backend.disposeSaved(saved);
    }
    expect(backend.helperChunks()).toBeGreaterThan(0);
    backend.destroy();
  });

  it('the helper thread never keeps the process alive, even without destroy()', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    expect(existsSync(dist), 'build the package first (pnpm build)').toBe(true);
    const script = `
      import { createBackend } from ${JSON.stringify(dist)};
      const b = createBackend({ threads: 2, parallelMinElements: 1 });
      await b.whenThreadsReady();
      const x = b.upload(new Float32Array(64).map((_, i) => i % 7), [16, 4]);
      const g = b.upload(new Float32Array(4).fill(1), [4]);
      b.batchNormForwardTraining({ x, gamma: g, beta: g }, { layout: 'NC', epsilon: 1e-5 });
      console.log('helpers', b.readyHelpers());
    `;
    // Exits on its own (a kept-alive worker would hit the timeout and throw).
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(output.toString().trim()).toBe('helpers 1');
  }, 30_000);

  it('after destroy, nothing keeps running: a new backend starts its own helpers', async () => {
    const backend = createBackend({ threads: 2, parallelMinElements: 1 });
    await backend.whenThreadsReady();
    backend.destroy();
    const again = createBackend({ threads: 2, parallelMinElements: 1 });
    await again.whenThreadsReady();
    expect(again.readyHelpers()).toBe(1);
    again.destroy();
  });
});

const layerShapes: Record<Layout, number[]> = {
  NC: [32, 6],
  NCL: [4, 6, 15],
  NLC: [4, 15, 6],
  NCHW: [4, 6, 3, 5],
  NHWC: [4, 3, 5, 6],
  NCDHW: [3, 6, 2, 3, 5],
  NDHWC: [3, 2, 3, 5, 6],
};

describe('js backend under the BatchNorm layer', () => {
  it.each(LAYOUTS)('%s: training steps then inference match the reference layer', (layout) => {
    const shape = layerShapes[layout];
    const js = createBackend({ threads: 1 });
    const reference = createReferenceBackend();
    const options = { numFeatures: 6, layout, momentum: 0.2 };
    const ours = new BatchNorm(js, options);
    const theirs = new BatchNorm(reference, options);
    const size = shape.reduce((a, b) => a * b);
    for (let step = 0; step < 5; step++) {
      const x = randomFloat32(100 + step, size, 3, 1e3);
      const dy = randomFloat32(200 + step, size);
      const y = ours.forward(js.upload(x, shape));
      const yRef = theirs.forward(reference.upload(x, shape));
      expectAllClose(js.readSync(y), reference.readSync(yRef), 1e-5, 1e-5);
      const dx = ours.backward(js.upload(dy, shape));
      const dxRef = theirs.backward(reference.upload(dy, shape));
      expectAllClose(js.readSync(dx), reference.readSync(dxRef), 1e-5, 1e-4);
      ours.sgdStep(0.1);
      theirs.sgdStep(0.1);
    }
    const state = ours.stateSync();
    const stateRef = theirs.stateSync();
    expectAllClose(state.runningMean, stateRef.runningMean, 0, 1e-6);
    expectAllClose(state.runningVar, stateRef.runningVar, 0, 1e-5);
    expectAllClose(state.gamma, stateRef.gamma, 1e-6, 1e-5);
    ours.eval();
    theirs.eval();
    const x = randomFloat32(300, size, 3, 1e3);
    expectAllClose(js.readSync(ours.forward(js.upload(x, shape))), reference.readSync(theirs.forward(reference.upload(x, shape))), 1e-4, 1e-4);
    js.destroy();
  });
});

describe('js backend behind asyncOnly (no readSync, reads settle a macrotask later)', () => {
  it.each(['NCL', 'NDHWC'] as const)('%s: the layer trains to the same bits as on the plain backend', async (layout) => {
    const shape = layerShapes[layout];
    const size = shape.reduce((a, b) => a * b);
    const plain = createBackend({ threads: 1 });
    const wrapped = asyncOnly(createBackend({ threads: 1 }));
    const layers = [plain, wrapped].map((b) => new BatchNorm<JsTensor>(b, { numFeatures: 6, layout, momentum: 0.2 }));
    const outputs: number[][][] = [[], []];
    for (let step = 0; step < 5; step++) {
      const x = randomFloat32(400 + step, size, 3, 1e3);
      const dy = randomFloat32(500 + step, size);
      for (const [i, layer] of layers.entries()) {
        const b = layer.backend;
        const y = layer.forward(b.upload(x, shape));
        const dx = layer.backward(b.upload(dy, shape));
        layer.sgdStep(0.1);
        outputs[i]!.push(Array.from(await b.read(y)), Array.from(await b.read(dx)));
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(await layers[1]!.state()).toEqual(await layers[0]!.state());
    expect(wrapped.readSync).toBeUndefined();
    for (const layer of layers) {
      layer.dispose();
      layer.backend.destroy();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BatchNorm, BatchNormError, createReferenceBackend, loadBackend, SPECIFICATION_VERSION } from '@batchnorm/core';
import { backendModule, backendName, createBackend } from './index.js';
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
  it('exports the registry shape', () => {
    expect(backendName).toBe('js');
    expect(backendModule.backendName).toBe('js');
    const backend = createBackend({ threads: 1 });
    expect(backend.name).toBe('js');
    expect(backend.dtype).toBe('float32');
    expect(backend.specificationVersion).toBe(SPECIFICATION_VERSION);
    backend.destroy();
  });

  it('loads through the core registry by name', async () => {
    const backend = await loadBackend('js', { threads: 1 }, (s) => import(s === '@batchnorm/backend-js' ? './index.js' : s));
    expect(backend.name).toBe('js');
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
    expectBatchNormError(() => backend.readSync(x), 'INVALID_STATE', 'tensor');
    expectBatchNormError(() => backend.relu(x), 'INVALID_STATE', 'tensor');
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
});

describe('js backend: threads', () => {
  it('splits large tensors across a helper thread and agrees with one thread', async () => {
    const one = createBackend({ threads: 1 });
    const two = createBackend({ threads: 2, parallelMinElements: 1 });
    await two.whenThreadsReady();
    expect(two.readyHelpers()).toBe(1);
    for (const layout of ['NC', 'NCHW', 'NHWC'] as const) {
      const shape = layout === 'NC' ? [129, 37] : layout === 'NCHW' ? [9, 5, 6, 7] : [9, 6, 7, 5];
      const c = layout === 'NC' ? 37 : 5;
      const data = randomFloat32(6, shape.reduce((a, b) => a * b), 2, 50);
      const dyData = randomFloat32(7, data.length);
      const gamma = randomFloat32(8, c);
      const beta = randomFloat32(9, c);
      const results = [one, two].map((b) => {
        const x = b.upload(data, shape);
        const inputs = { x, gamma: b.upload(gamma, [c]), beta: b.upload(beta, [c]) };
        const attrs = { layout, epsilon: 1e-3 };
        const f = b.batchNormForwardTraining(inputs, attrs);
        const g = b.batchNormBackward(
          { dy: b.upload(dyData, shape), x, gamma: inputs.gamma, mean: f.mean, variance: f.variance },
          attrs,
        );
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
      const { y, mean, variance } = backend.batchNormForwardTraining({ x, gamma, beta: gamma }, { layout: 'NC', epsilon: 1e-5 });
      for (const t of [y, mean, variance]) backend.dispose(t);
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

describe('js backend under the BatchNorm layer', () => {
  it.each(['NC', 'NCHW', 'NHWC'] as const)('%s: training steps then inference match the reference layer', (layout) => {
    const shape = layout === 'NC' ? [32, 6] : layout === 'NCHW' ? [4, 6, 3, 5] : [4, 3, 5, 6];
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
    const state = ours.state();
    const stateRef = theirs.state();
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

// A float32 backend that keeps float64 running statistics (as js does) declares readFloat64:
// state() then holds those digits and load() hands them back, so a reloaded layer continues
// bit for bit. Without the capability, state() and load() carry the backend's float32.
import { describe, expect, it } from 'vitest';
import { expectBatchNormError, randomArray, reference, tensor } from './__tests__/helpers.js';
import { asyncOnly } from './asyncOnly.js';
import type { Backend } from './backend.js';
import { BatchNorm, type BatchNormState } from './BatchNorm.js';
import { HandleRegistry } from './handles.js';
import type { SyncBackend } from './reads.js';
import type { ReferenceTensor } from './reference/tensor.js';

type Fake = SyncBackend<ReferenceTensor> & Pick<Backend<ReferenceTensor>, 'readFloat64' | 'readFloat64Sync'>;

/**
 * The reference's float64 kernels behind float32 reads: `read`/`readSync` round to float32,
 * `readFloat64`/`readFloat64Sync` (when `keepsFloat64`) return the float64 values. Records the
 * array type of every upload.
 */
function fakeFloat32Backend(keepsFloat64: boolean): { backend: Fake; uploads: string[] } {
  const uploads: string[] = [];
  const backend: Fake = {
    ...reference,
    name: 'fake-float32',
    dtype: 'float32',
    upload(data, shape) {
      uploads.push(data.constructor.name);
      return reference.upload(data, shape);
    },
    read: async (t) => Float32Array.from(reference.readSync(t)),
    readSync: (t) => Float32Array.from(reference.readSync(t)),
    ...(keepsFloat64
      ? {
          readFloat64: async (t: ReferenceTensor) => Float64Array.from(reference.readSync(t)),
          readFloat64Sync: (t: ReferenceTensor) => Float64Array.from(reference.readSync(t)),
        }
      : {}),
  };
  return { backend, uploads };
}

const C = 3;
const batch = (seed: number) => tensor(randomArray(seed, 4 * C, 2, 1e3), [4, C]);

/** Trains `layer` on the batches of `seeds`, disposing what forward returns. */
function train(layer: BatchNorm<ReferenceTensor>, seeds: readonly number[]): void {
  for (const seed of seeds) layer.backend.dispose(layer.forward(batch(seed)));
}

const isFloat32 = (v: number) => Math.fround(v) === v;

describe('state() and load() on a float32 backend that declares readFloat64', () => {
  it('hold the running statistics in float64, γ and β in float32', async () => {
    const { backend } = fakeFloat32Backend(true);
    const layer = new BatchNorm(backend, { numFeatures: C, gamma: [0.1, 0.2, 0.3] });
    train(layer, [1, 2, 3]);
    const state = layer.stateSync();
    expect(state.runningMean).toEqual(Array.from(reference.readSync(layer.runningMean)));
    expect(state.runningVar).toEqual(Array.from(reference.readSync(layer.runningVar)));
    expect([...state.runningMean, ...state.runningVar].some((v) => !isFloat32(v))).toBe(true);
    expect([...state.gamma, ...state.beta].every(isFloat32)).toBe(true);
    expect(await layer.state()).toEqual(state);
  });

  it('upload the running statistics as Float64Array, so a reloaded layer continues bit for bit', () => {
    const { backend, uploads } = fakeFloat32Backend(true);
    const straight = new BatchNorm(backend, { numFeatures: C });
    train(straight, [1, 2]);
    const saved: BatchNormState = JSON.parse(JSON.stringify(straight.stateSync()));
    const resumed = new BatchNorm(backend, { numFeatures: C });
    uploads.length = 0;
    resumed.load(saved);
    expect(uploads).toEqual(['Float32Array', 'Float32Array', 'Float64Array', 'Float64Array']);
    expect(resumed.stateSync()).toEqual(saved);
    train(straight, [3, 4]);
    train(resumed, [3, 4]);
    expect(resumed.stateSync()).toEqual(straight.stateSync());
  });

  it('go through asyncOnly: its readFloat64 settles later, its readFloat64Sync is hidden', async () => {
    const { backend } = fakeFloat32Backend(true);
    const wrapped = asyncOnly(backend);
    expect(wrapped.readFloat64Sync).toBeUndefined();
    const layer = new BatchNorm(wrapped, { numFeatures: C });
    train(layer, [1, 2]);
    const state = await layer.state();
    expect(state.runningMean).toEqual(Array.from(reference.readSync(layer.runningMean)));
    expect(state.runningMean.some((v) => !isFloat32(v))).toBe(true);
  });
});

describe('state() and load() on a float32 backend without readFloat64', () => {
  it('hold and upload every vector in float32', async () => {
    const { backend, uploads } = fakeFloat32Backend(false);
    const layer = new BatchNorm(backend, { numFeatures: C });
    train(layer, [1, 2]);
    const state = layer.stateSync();
    expect([...state.runningMean, ...state.runningVar].every(isFloat32)).toBe(true);
    expect(await layer.state()).toEqual(state);
    uploads.length = 0;
    layer.load(state);
    expect(uploads).toEqual(['Float32Array', 'Float32Array', 'Float32Array', 'Float32Array']);
  });
});

describe("HandleRegistry.guard's readFloat64 and readFloat64Sync", () => {
  const handles = new HandleRegistry<ReferenceTensor>('mine');
  const mine = handles.guard({
    upload: (data: Float64Array | Float32Array, shape: readonly number[]) => ({ data: Float64Array.from(data), shape: [...shape] }),
    readFloat64: async (t: ReferenceTensor) => t.data.slice(),
    readFloat64Sync: (t: ReferenceTensor) => t.data.slice(),
  });

  it('read a tensor the instance made', async () => {
    const t = mine.upload(Float64Array.of(0.1, 1 / 3), [2]);
    expect(Array.from(mine.readFloat64Sync(t))).toEqual([0.1, 1 / 3]);
    expect(Array.from(await mine.readFloat64(t))).toEqual([0.1, 1 / 3]);
  });

  it('refuse one it did not make, naming t: readFloat64 rejects, readFloat64Sync throws', async () => {
    const foreign = tensor([1, 2], [2]);
    expectBatchNormError(() => mine.readFloat64Sync(foreign), 'INVALID_HANDLE', 't');
    await expect(mine.readFloat64(foreign)).rejects.toMatchObject({ code: 'INVALID_HANDLE', argument: 't' });
  });
});

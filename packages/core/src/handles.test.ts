import { describe, expect, it } from 'vitest';
import { expectBatchNormError, expectBatchNormErrorAsync, randomArray, reference, tensor, values } from './__tests__/helpers.js';
import { type Backend, type BatchNormAttrs, type TensorHandle } from './backend.js';
import { BatchNorm } from './BatchNorm.js';
import { HandleRegistry } from './handles.js';
import { loadBackend, registerBackend, unregisterBackend } from './registry.js';
import { createReferenceBackend, referenceKernels, type ReferenceBackend, type ReferenceSaved, type ReferenceTensor } from './reference/index.js';

// Issue 13, item 8: a tensor of another backend (or backend instance), a look-alike object, a
// disposed tensor, and a tensor whose shape was changed must all give INVALID_HANDLE naming the
// argument, through the layer and through direct kernel calls, and change nothing.

const other = createReferenceBackend();
const shape = [4, 2];
const attrs: BatchNormAttrs = { layout: 'NC', epsilon: 1e-5 };

/** Everything the reference must refuse, as a fresh value of `shape`. */
const badHandles: Record<string, (shape: number[]) => unknown> = {
  'a tensor of another reference backend instance': (s) => other.upload(new Float64Array(size(s)).fill(0.5), s),
  'a look-alike { shape }': (s) => ({ shape: [...s] }),
  "a look-alike with the reference's structure { shape, data }": (s) => ({ shape: [...s], data: new Float64Array(size(s)) }),
  'a disposed tensor': (s) => {
    const t = tensor(new Float64Array(size(s)).fill(0.5), s);
    reference.dispose(t);
    return t;
  },
};
const badCases = Object.entries(badHandles);

function size(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

function trainedLayer() {
  const layer = new BatchNorm(reference, { numFeatures: 2, gamma: [1.5, -0.5], beta: [0.2, 0.3] });
  layer.forward(tensor(randomArray(1, 8, 2, 1), shape));
  layer.forward(tensor(randomArray(2, 8, 3, -1), shape));
  const dy = tensor(randomArray(3, 8), shape);
  const dx = values(layer.backward(dy));
  return { layer, dy, dx };
}

function snapshot(layer: BatchNorm<ReferenceTensor, ReferenceBackend>) {
  const g = layer.gradients;
  return { state: layer.stateSync(), training: layer.training, gradients: g && [values(g.gamma), values(g.beta)] };
}

describe('through the layer: INVALID_HANDLE naming the argument, nothing changed', () => {
  it.each(badCases)('forward(x) with %s', (_label, make) => {
    const { layer, dy, dx } = trainedLayer();
    const before = snapshot(layer);
    const error = expectBatchNormError(() => layer.forward(make(shape) as ReferenceTensor), 'INVALID_HANDLE', 'x');
    expect(error.expected).toContain('"reference"');
    expect(snapshot(layer)).toEqual(before);
    // the saved batch survived: backward still differentiates the last good forward
    expect(values(layer.backward(dy))).toEqual(dx);
  });

  it.each(badCases)('forward(x) in eval mode with %s', (_label, make) => {
    const { layer } = trainedLayer();
    layer.eval();
    const before = snapshot(layer);
    expectBatchNormError(() => layer.forward(make(shape) as ReferenceTensor), 'INVALID_HANDLE', 'x');
    expect(snapshot(layer)).toEqual(before);
  });

  it.each(badCases)('backward(dy) with %s', (_label, make) => {
    const { layer, dy, dx } = trainedLayer();
    const before = snapshot(layer);
    expectBatchNormError(() => layer.backward(make(shape) as ReferenceTensor), 'INVALID_HANDLE', 'dy');
    expect(snapshot(layer)).toEqual(before);
    expect(values(layer.backward(dy))).toEqual(dx);
  });

  it('a look-alike of the wrong shape is an invalid handle too, not a shape error', () => {
    const { layer } = trainedLayer();
    expectBatchNormError(() => layer.forward({ shape: [0, 2] } as unknown as ReferenceTensor), 'INVALID_HANDLE', 'x');
    expectBatchNormError(() => layer.backward({ shape: [3, 3] } as unknown as ReferenceTensor), 'INVALID_HANDLE', 'dy');
  });

  it('x disposed before backward: INVALID_HANDLE x from the kernel, nothing changed', () => {
    const layer = new BatchNorm(reference, { numFeatures: 2 });
    const x = tensor(randomArray(4, 8), shape);
    layer.forward(x);
    reference.dispose(x);
    const before = snapshot(layer);
    expectBatchNormError(() => layer.backward(tensor(randomArray(5, 8), shape)), 'INVALID_HANDLE', 'x');
    expect(snapshot(layer)).toEqual(before);
  });

  it("the layer's own γ disposed by the caller: INVALID_HANDLE gamma, not a wrong result", () => {
    const layer = new BatchNorm(reference, { numFeatures: 2 });
    reference.dispose(layer.gamma);
    expectBatchNormError(() => layer.forward(tensor(randomArray(6, 8), shape)), 'INVALID_HANDLE', 'gamma');
    expect(layer.numBatchesTracked).toBe(0);
  });

  it('a backend without isTensor (written for an earlier draft of the contract): a typed error at construction', () => {
    const { isTensor: _, ...withoutIsTensor } = createReferenceBackend();
    expectBatchNormError(
      () => new BatchNorm(withoutIsTensor as unknown as Backend, { numFeatures: 2 }),
      'INVALID_ARGUMENT',
      'backend',
    );
  });
});

/** Fresh, valid arguments of every kernel (NC, C = 2). */
function goodArguments() {
  const t = (n: number, s: number[]) => tensor(randomArray(n, size(s)), s);
  const x = t(10, [4, 2]);
  const gamma = tensor([1.5, -0.5], [2]);
  const beta = t(11, [2]);
  const { saved } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
  return {
    x,
    gamma,
    beta,
    saved,
    dy: t(12, [4, 2]),
    y: tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [4, 2]),
    mean: t(13, [2]),
    variance: tensor([1, 2], [2]),
    running: t(14, [2]),
    batch: t(15, [2]),
    a: t(16, [4, 2]),
    b: t(17, [2, 3]),
    bias: t(18, [2]),
    logits: t(19, [4, 2]),
    labels: tensor([1, 0, 0, 1, 1, 0, 0, 1], [4, 2]),
    param: t(20, [2]),
    grad: t(21, [2]),
  };
}
type Arguments = ReturnType<typeof goodArguments>;

/** Each kernel, the names of its tensor arguments, and the call. */
const kernelCalls: [string, (keyof Arguments)[], (a: Arguments) => unknown][] = [
  ['batchNormForwardTraining', ['x', 'gamma', 'beta'], (a) => reference.batchNormForwardTraining(a, attrs)],
  ['batchNormForwardInference', ['x', 'gamma', 'beta', 'mean', 'variance'], (a) => reference.batchNormForwardInference(a, attrs)],
  ['batchNormBackward', ['dy', 'x', 'gamma'], (a) => reference.batchNormBackward(a, attrs)],
  ['runningAverage', ['running', 'batch'], (a) => reference.runningAverage(a, { factor: 0.1, batchScale: 1 })],
  ['matMul', ['a', 'b'], (a) => reference.matMul(a.a, a.b)],
  ['addBias', ['x', 'bias'], (a) => reference.addBias(a.x, a.bias)],
  ['sumRows', ['x'], (a) => reference.sumRows(a.x)],
  ['sigmoid', ['x'], (a) => reference.sigmoid(a.x)],
  ['sigmoidBackward', ['dy', 'y'], (a) => reference.sigmoidBackward(a.dy, a.y)],
  ['relu', ['x'], (a) => reference.relu(a.x)],
  ['reluBackward', ['dy', 'x'], (a) => reference.reluBackward(a.dy, a.x)],
  ['softmaxCrossEntropy', ['logits', 'labels'], (a) => reference.softmaxCrossEntropy(a.logits, a.labels)],
  ['sgdUpdate', ['param', 'grad'], (a) => reference.sgdUpdate(a.param, a.grad, { learningRate: 0.1 })],
];
const kernelArgumentCases = kernelCalls.flatMap(([kernel, names, call]) =>
  names.flatMap((name) => badCases.map(([label, make]) => [kernel, name, label, make, call] as const)),
);

describe('direct kernel calls: INVALID_HANDLE naming the argument', () => {
  it.each(kernelArgumentCases)('%s, argument %s: %s', (_kernel, name, _label, make, call) => {
    const args = goodArguments();
    const good = args[name] as ReferenceTensor;
    const bad = { ...args, [name]: make([...good.shape]) };
    const error = expectBatchNormError(() => call(bad), 'INVALID_HANDLE', name);
    expect(error.hint).toBeDefined();
  });

  it('the kernel says which it is: disposed, or not made by this backend instance', () => {
    const args = goodArguments();
    reference.dispose(args.x);
    expect(expectBatchNormError(() => reference.relu(args.x), 'INVALID_HANDLE', 'x').received).toContain('disposed');
    const foreign = other.upload(new Float64Array(8), shape);
    expect(expectBatchNormError(() => reference.relu(foreign), 'INVALID_HANDLE', 'x').received).toContain('not made by this');
  });

  it.each(['another instance', 'a look-alike', 'released'])('batchNormBackward with a saved value from %s: INVALID_HANDLE saved', (kind) => {
    const args = goodArguments();
    let saved: ReferenceSaved;
    if (kind === 'another instance') {
      saved = other.batchNormForwardTraining(
        { x: other.upload(new Float64Array(8).fill(1).map((_, i) => i), shape), gamma: other.upload(Float64Array.of(1, 1), [2]), beta: other.upload(Float64Array.of(0, 0), [2]) },
        attrs,
      ).saved;
    } else if (kind === 'a look-alike') {
      saved = { mean: new Float64Array(2), variance: Float64Array.of(1, 1) };
    } else {
      saved = args.saved;
      reference.disposeSaved(saved);
      reference.disposeSaved(saved); // twice is allowed
    }
    expectBatchNormError(() => reference.batchNormBackward({ ...args, saved }, attrs), 'INVALID_HANDLE', 'saved');
  });

  it('disposeSaved of a saved value this backend did not make: INVALID_HANDLE saved', () => {
    expectBatchNormError(() => reference.disposeSaved({ mean: new Float64Array(2), variance: new Float64Array(2) }), 'INVALID_HANDLE', 'saved');
  });

  it.each(badCases)('read(t) rejects %s', async (_label, make) => {
    await expectBatchNormErrorAsync(() => reference.read(make(shape) as ReferenceTensor), 'INVALID_HANDLE', 't');
  });

  it.each(badCases)('readSync(t) throws for %s', (_label, make) => {
    expectBatchNormError(() => reference.readSync(make(shape) as ReferenceTensor), 'INVALID_HANDLE', 't');
  });

  it('dispose: twice is allowed; a tensor this instance did not make is refused', () => {
    const t = tensor([1, 2], [2]);
    reference.dispose(t);
    reference.dispose(t);
    expectBatchNormError(() => reference.dispose(other.upload(Float64Array.of(1), [1])), 'INVALID_HANDLE', 't');
    expectBatchNormError(() => reference.dispose({ shape: [1] } as unknown as ReferenceTensor), 'INVALID_HANDLE', 't');
  });

  it('not an object at all: INVALID_ARGUMENT, as before', () => {
    expectBatchNormError(() => reference.relu(null as unknown as ReferenceTensor), 'INVALID_ARGUMENT', 'x');
    expectBatchNormError(() => reference.batchNormForwardTraining(null as never, attrs), 'INVALID_ARGUMENT', 'inputs');
  });
});

describe('isTensor', () => {
  it('is true exactly for the live tensors this instance made (uploads and kernel outputs)', () => {
    const args = goodArguments();
    const out = reference.batchNormForwardTraining(args, attrs);
    for (const t of [args.x, out.y, out.mean, out.variance, reference.relu(args.x)]) expect(reference.isTensor(t)).toBe(true);
    for (const v of [null, undefined, 3, 'x', {}, { shape: [4, 2] }, out.saved, other.upload(Float64Array.of(1), [1])]) {
      expect(reference.isTensor(v)).toBe(false);
    }
    reference.dispose(out.y);
    expect(reference.isTensor(out.y)).toBe(false);
  });

  it('sgdUpdate consumes param (the contract): a param it replaced is no longer a live tensor', () => {
    const { param, grad } = goodArguments();
    const updated = reference.sgdUpdate(param, grad, { learningRate: 0.1 });
    expect(reference.isTensor(updated)).toBe(true);
    expect(reference.isTensor(param)).toBe(updated === param);
  });
});

describe('a handle cannot change shape', () => {
  const handles = (): [string, ReferenceTensor][] => {
    const args = goodArguments();
    const forward = reference.batchNormForwardTraining(args, attrs);
    const backward = reference.batchNormBackward(args, attrs);
    return [
      ['upload', args.x],
      ['y', forward.y],
      ['mean', forward.mean],
      ['dx', backward.dx],
      ['matMul', reference.matMul(args.a, args.b)],
      ['loss', reference.softmaxCrossEntropy(args.logits, args.labels).loss],
      ['sgdUpdate', reference.sgdUpdate(args.param, args.grad, { learningRate: 0.1 })],
    ];
  };

  it.each(handles())('%s: every way of changing the shape throws, and the shape stays', (_label, t) => {
    const before = [...t.shape];
    const mutable = t as unknown as { shape: number[] };
    expect(() => {
      mutable.shape[0] = 99;
    }).toThrow(TypeError);
    expect(() => mutable.shape.push(1)).toThrow(TypeError);
    expect(() => {
      mutable.shape = [99, 2];
    }).toThrow(TypeError);
    expect(() => Object.defineProperty(t, 'shape', { value: [99, 2] })).toThrow(TypeError);
    expect([...t.shape]).toEqual(before);
    expect(reference.readSync(t)).toHaveLength(size(before));
  });
});

describe('HandleRegistry', () => {
  it('guard() keeps other members, getters included, and adds isTensor', () => {
    const handles = new HandleRegistry<ReferenceTensor, ReferenceSaved>('mine');
    let reads = 0;
    const backend = handles.guard({
      name: 'mine',
      get reads() {
        return reads;
      },
      upload: (data: Float64Array | Float32Array, s: readonly number[]) => ({ data: Float64Array.from(data), shape: [...s] }),
      readSync: (t: ReferenceTensor) => {
        reads++;
        return t.data.slice();
      },
      relu: referenceKernels.relu,
    });
    const t = backend.upload(Float64Array.of(-1, 2), [2]);
    expect(backend.isTensor(t)).toBe(true);
    expect(Object.isFrozen(t) && Object.isFrozen(t.shape)).toBe(true);
    expect(Array.from(backend.readSync(backend.relu(t)))).toEqual([0, 2]);
    expect(backend.reads).toBe(1);
    expectBatchNormError(() => backend.relu(tensor([1, 2], [2])), 'INVALID_HANDLE', 'x');
  });

  it('a handle made frozen by its backend is tracked too (it cannot be stamped)', () => {
    const handles = new HandleRegistry<ReferenceTensor>('mine');
    const backend = handles.guard({
      upload: (data: Float64Array | Float32Array, s: readonly number[]) => Object.freeze({ data: Float64Array.from(data), shape: Object.freeze([...s]) }),
      dispose: (_t: ReferenceTensor) => {},
      relu: referenceKernels.relu,
    });
    const t = backend.upload(Float64Array.of(-1, 2), [2]);
    expect(backend.isTensor(t)).toBe(true);
    expect(backend.isTensor(backend.relu(t))).toBe(true);
    backend.dispose(t);
    expect(expectBatchNormError(() => backend.relu(t), 'INVALID_HANDLE', 'x').received).toContain('disposed');
    backend.dispose(t);
    expectBatchNormError(() => backend.dispose(Object.freeze({ data: new Float64Array(1), shape: [1] })), 'INVALID_HANDLE', 't');
  });

  it('a saved value that is not an object passes through unchecked (nothing to brand)', () => {
    const handles = new HandleRegistry<TensorHandle, undefined>('mine');
    const seen: unknown[] = [];
    const backend = handles.guard({ disposeSaved: (saved: undefined) => seen.push(saved) });
    backend.disposeSaved(undefined);
    expect(seen).toEqual([undefined]);
  });
});

describe('loadBackend', () => {
  it('rejects a backend without isTensor (an earlier draft of contract v2): BACKEND_UNAVAILABLE', async () => {
    let destroyed = false;
    registerBackend({
      name: 'no-is-tensor',
      packageName: '@example/no-is-tensor',
      description: 'a backend of an earlier draft of the contract',
      createBackend: () => {
        const { isTensor: _, ...rest } = createReferenceBackend();
        return { ...rest, destroy: () => (destroyed = true) } as unknown as Backend;
      },
      traits: { residence: 'host', tolerance: 'float64', requires: [], environments: ['node'] },
    });
    try {
      const error = await expectBatchNormErrorAsync(() => loadBackend('no-is-tensor'), 'BACKEND_UNAVAILABLE', 'backend');
      expect(error.expected).toContain('isTensor');
      expect(destroyed).toBe(true);
    } finally {
      unregisterBackend('no-is-tensor');
    }
  });
});

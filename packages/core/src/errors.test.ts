import { afterEach, describe, expect, it } from 'vitest';
import {
  expectBatchNormError,
  expectBatchNormErrorAsync,
  randomArray,
  reference,
  tensor,
  values,
} from './__tests__/helpers.js';
import { BatchNorm, type BatchNormOptions, type BatchNormState } from './BatchNorm.js';
import { BatchNormError } from './errors.js';
import { geometryOf } from './layout.js';
import { createReferenceBackend, type ReferenceBackend } from './reference/index.js';
import type { ReferenceTensor } from './reference/tensor.js';
import { SPECIFICATION_VERSION } from './backend.js';
import { KNOWN_BACKENDS } from './knownBackends.js';
import {
  knownBackendNames,
  loadBackend,
  loadBackendModule,
  registerBackend,
  registeredBackends,
  unregisterBackend,
  type BackendModule,
} from './registry.js';

/** A layer with history: trained on two batches, with gradients, so every piece of state is set. */
function trainedLayer(options: Partial<BatchNormOptions> = {}) {
  const layer = new BatchNorm(reference, { numFeatures: 2, gamma: [1.5, -0.5], beta: [0.2, 0.3], ...options });
  const shape = layer.layout === 'NC' ? [4, 2] : layer.layout === 'NCHW' ? [2, 2, 1, 2] : [2, 1, 2, 2];
  layer.forward(tensor(randomArray(1, 8, 2, 1), shape));
  const x = tensor(randomArray(2, 8, 3, -1), shape);
  layer.forward(x);
  const dy = tensor(randomArray(3, 8), shape);
  const dx = values(layer.backward(dy));
  return { layer, shape, x, dy, dx };
}

/** Everything a failed call must leave alone. */
function snapshot(layer: BatchNorm<ReferenceTensor, ReferenceBackend>) {
  const gradients = layer.gradients;
  return {
    state: layer.stateSync(),
    training: layer.training,
    gradients: gradients === undefined ? undefined : [values(gradients.gamma), values(gradients.beta)],
  };
}

/** Runs `call`, expects the typed error, and checks the layer is exactly as before. */
function expectRejectedIntact(
  layer: BatchNorm<ReferenceTensor, ReferenceBackend>,
  call: () => unknown,
  code: BatchNormError['code'],
  argument: string,
): BatchNormError {
  const before = snapshot(layer);
  const error = expectBatchNormError(call, code, argument);
  expect(snapshot(layer)).toEqual(before);
  return error;
}

describe('BatchNormError', () => {
  it('is an Error naming the argument, the expected and the received', () => {
    const error = expectBatchNormError(() => new BatchNorm(reference, { numFeatures: 2, epsilon: -1 }), 'INVALID_ARGUMENT', 'epsilon');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('BatchNormError');
    expect(error.received).toBe('-1');
    expect(error.message).toBe('epsilon: expected a finite number > 0, received -1.');
  });
});

describe('constructor options', () => {
  const make = (options: Record<string, unknown>) => () =>
    new BatchNorm(reference, { numFeatures: 2, ...options } as unknown as BatchNormOptions);

  it('rejects a missing options object', () => {
    expectBatchNormError(() => new BatchNorm(reference, null as unknown as BatchNormOptions), 'INVALID_ARGUMENT', 'options');
  });

  it.each([0, -2, 2.5, '2', undefined, NaN])('numFeatures %s', (numFeatures) => {
    expectBatchNormError(make({ numFeatures }), 'INVALID_ARGUMENT', 'numFeatures');
  });

  it.each(['NWHC', 'nchw', 'CHW', 3, null])('unknown layout %s', (layout) => {
    const error = expectBatchNormError(make({ layout }), 'INVALID_ARGUMENT', 'layout');
    expect(error.expected).toContain('"NCHW"');
  });

  it.each([0, -1e-5, NaN, Infinity, -Infinity, '1e-5', null])('epsilon %s', (epsilon) => {
    expectBatchNormError(make({ epsilon }), 'INVALID_ARGUMENT', 'epsilon');
  });

  it.each([-0.1, 1.0000001, 2, NaN, Infinity, -Infinity, '0.1'])('momentum %s', (momentum) => {
    expectBatchNormError(make({ momentum }), 'INVALID_ARGUMENT', 'momentum');
  });

  it.each([0, 1, null])('accepts momentum %s', (momentum) => {
    expect(make({ momentum })().momentum).toBe(momentum);
  });

  it.each(['none', 'Unbiased', 1])('varianceCorrection %s', (varianceCorrection) => {
    expectBatchNormError(make({ varianceCorrection }), 'INVALID_ARGUMENT', 'varianceCorrection');
  });

  it.each([1, 'yes', null])('checkFinite %s', (checkFinite) => {
    expectBatchNormError(make({ checkFinite }), 'INVALID_ARGUMENT', 'checkFinite');
  });

  it.each(['gamma', 'beta'])('%s of the wrong length or not finite', (name) => {
    expectBatchNormError(make({ [name]: [1, 2, 3] }), 'SHAPE_MISMATCH', name);
    expectBatchNormError(make({ [name]: [] }), 'SHAPE_MISMATCH', name);
    expectBatchNormError(make({ [name]: [1, NaN] }), 'INVALID_ARGUMENT', `${name}[1]`);
    expectBatchNormError(make({ [name]: Float32Array.of(Infinity, 1) }), 'INVALID_ARGUMENT', `${name}[0]`);
    expectBatchNormError(make({ [name]: [1, '2'] }), 'INVALID_ARGUMENT', `${name}[1]`);
    expectBatchNormError(make({ [name]: 'ab' }), 'INVALID_ARGUMENT', name);
  });
});

describe('forward input', () => {
  it.each([
    ['rank 4 for NC', 'NC', [2, 2, 1, 1]],
    ['rank 2 for NCHW', 'NCHW', [4, 2]],
    ['C on the wrong axis of NCHW', 'NCHW', [2, 1, 2, 2]],
    ['C on the wrong axis of NHWC', 'NHWC', [2, 2, 1, 1]],
    ['rank 5 for NHWC', 'NHWC', [2, 1, 1, 2, 1]],
    ['C = 3 for a 2-feature NC layer', 'NC', [4, 3]],
  ] as const)('wrong shape: %s', (_label, layout, shape) => {
    const { layer } = trainedLayer({ layout });
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    expectRejectedIntact(layer, () => layer.forward(tensor(new Float64Array(size), shape)), 'SHAPE_MISMATCH', 'x.shape');
  });

  it.each([
    ['a zero dimension', [0, 2]],
    ['a fractional dimension', [2.5, 2]],
    ['an empty shape', []],
  ])('invalid shape: %s', (_label, shape) => {
    // only a look-alike can have such a shape (upload refuses it, a handle's shape is frozen):
    // the layer refuses it as a handle, and the layout check refuses the shape itself
    const { layer } = trainedLayer();
    const fake = { shape, data: new Float64Array(4) } as unknown as ReferenceTensor;
    expectRejectedIntact(layer, () => layer.forward(fake), 'INVALID_HANDLE', 'x');
    expectBatchNormError(() => geometryOf('NC', shape), 'INVALID_ARGUMENT', 'x.shape');
  });

  it.each([null, undefined, {}, new Float64Array(4), { shape: '4,2' }])('not a tensor: %s', (x) => {
    const { layer } = trainedLayer();
    expectRejectedIntact(layer, () => layer.forward(x as unknown as ReferenceTensor), 'INVALID_ARGUMENT', 'x');
  });

  it.each([
    ['NC', [1, 2]],
    ['NCHW', [1, 2, 1, 1]],
    ['NHWC', [1, 1, 1, 2]],
  ] as const)('m = N·H·W < 2 in training (%s %s)', (layout, shape) => {
    const { layer } = trainedLayer({ layout });
    const error = expectRejectedIntact(layer, () => layer.forward(tensor([1, 2], shape)), 'INVALID_ARGUMENT', 'x.shape');
    expect(error.received).toContain('m = 1');
    // the same shape is fine in inference, and m = 2 from H·W alone is fine in training
    layer.eval();
    expect(values(layer.forward(tensor([1, 2], shape)))).toHaveLength(2);
  });

  it('m = 2 with a single sample (N = 1, H·W = 2) trains', () => {
    const layer = new BatchNorm(reference, { numFeatures: 2, layout: 'NCHW' });
    expect(values(layer.forward(tensor([1, 2, 3, 5], [1, 2, 1, 2])))).toHaveLength(4);
  });

  it.each([NaN, Infinity, -Infinity])('%s in a training batch: NON_FINITE_INPUT, nothing changed', (bad) => {
    const { layer, shape, dy, dx } = trainedLayer();
    const data = randomArray(9, 8);
    data[5] = bad;
    const error = expectRejectedIntact(layer, () => layer.forward(tensor(data, shape)), 'NON_FINITE_INPUT', 'x');
    expect(error.received).toContain('feature 1');
    // the last good batch is still the one backward differentiates
    expect(values(layer.backward(dy))).toEqual(dx);
  });

  it('with checkFinite: false a non-finite batch is not rejected (the caller opted out)', () => {
    const layer = new BatchNorm(reference, { numFeatures: 2, checkFinite: false });
    layer.forward(tensor([1, NaN, 2, 3], [2, 2]));
    expect(Number.isNaN(layer.stateSync().runningMean[1])).toBe(true);
  });
});

describe('load()', () => {
  const corruptions: [string, (s: BatchNormState) => unknown, BatchNormError['code'], string][] = [
    ['wrong schema', (s) => ({ ...s, schema: 'batchnorm-state/2' }), 'INVALID_ARGUMENT', 'state.schema'],
    ['no schema', (s) => ({ ...s, schema: undefined }), 'INVALID_ARGUMENT', 'state.schema'],
    ['more features', (s) => ({ ...s, numFeatures: 3 }), 'SHAPE_MISMATCH', 'state.numFeatures'],
    ['another layout', (s) => ({ ...s, layout: 'NCHW' }), 'INVALID_ARGUMENT', 'state.layout'],
    ['γ too long', (s) => ({ ...s, gamma: [1, 2, 3] }), 'SHAPE_MISMATCH', 'state.gamma'],
    ['β missing', (s) => ({ ...s, beta: undefined }), 'INVALID_ARGUMENT', 'state.beta'],
    ['running mean too short', (s) => ({ ...s, runningMean: [0] }), 'SHAPE_MISMATCH', 'state.runningMean'],
    ['running mean NaN', (s) => ({ ...s, runningMean: [0, NaN] }), 'INVALID_ARGUMENT', 'state.runningMean[1]'],
    ['running mean null (NaN after JSON)', (s) => ({ ...s, runningMean: [null, 0] }), 'INVALID_ARGUMENT', 'state.runningMean[0]'],
    ['negative running variance', (s) => ({ ...s, runningVar: [1, -0.5] }), 'INVALID_ARGUMENT', 'state.runningVar[1]'],
    ['infinite running variance', (s) => ({ ...s, runningVar: [Infinity, 1] }), 'INVALID_ARGUMENT', 'state.runningVar[0]'],
    ['ε = 0', (s) => ({ ...s, epsilon: 0 }), 'INVALID_ARGUMENT', 'state.epsilon'],
    ['momentum 2', (s) => ({ ...s, momentum: 2 }), 'INVALID_ARGUMENT', 'state.momentum'],
    ['unknown variance correction', (s) => ({ ...s, varianceCorrection: 'population' }), 'INVALID_ARGUMENT', 'state.varianceCorrection'],
    ['negative batch count', (s) => ({ ...s, numBatchesTracked: -1 }), 'INVALID_ARGUMENT', 'state.numBatchesTracked'],
    ['fractional batch count', (s) => ({ ...s, numBatchesTracked: 1.5 }), 'INVALID_ARGUMENT', 'state.numBatchesTracked'],
    ['not an object', () => 'batchnorm-state/1', 'INVALID_ARGUMENT', 'state'],
    ['null', () => null, 'INVALID_ARGUMENT', 'state'],
  ];

  it.each(corruptions)('%s', (_label, corrupt, code, argument) => {
    const { layer, dy, dx } = trainedLayer();
    const bad = corrupt(layer.stateSync()) as BatchNormState;
    expectRejectedIntact(layer, () => layer.load(bad), code, argument);
    // the saved batch survived too
    expect(values(layer.backward(dy))).toEqual(dx);
  });

  it.each(corruptions)('fromState: %s', (_label, corrupt, code, argument) => {
    const { layer } = trainedLayer();
    const bad = corrupt(layer.stateSync()) as BatchNormState;
    // fromState has no layer to compare with: another layout is fine there, and more features
    // than γ has values is γ's fault
    if (argument === 'state.layout') {
      expect(BatchNorm.fromState(reference, bad).stateSync()).toEqual(bad);
    } else if (argument === 'state.numFeatures') {
      expectBatchNormError(() => BatchNorm.fromState(reference, bad), 'SHAPE_MISMATCH', 'state.gamma');
    } else {
      expectBatchNormError(() => BatchNorm.fromState(reference, bad), code, argument);
    }
  });

  it('fromState names state.numFeatures and state.layout when they are invalid', () => {
    const { layer } = trainedLayer();
    expectBatchNormError(
      () => BatchNorm.fromState(reference, { ...layer.stateSync(), numFeatures: 0 }),
      'INVALID_ARGUMENT',
      'state.numFeatures',
    );
    expectBatchNormError(
      () => BatchNorm.fromState(reference, { ...layer.stateSync(), layout: 'HWC' } as unknown as BatchNormState),
      'INVALID_ARGUMENT',
      'state.layout',
    );
  });
});

describe('backward()', () => {
  it('without a forward: INVALID_STATE', () => {
    const layer = new BatchNorm(reference, { numFeatures: 2 });
    expectRejectedIntact(layer, () => layer.backward(tensor([1, 2, 3, 4], [2, 2])), 'INVALID_STATE', 'dy');
  });

  it('after eval() or load(): INVALID_STATE (the saved batch is gone)', () => {
    const { layer, dy } = trainedLayer();
    layer.eval();
    const error = expectRejectedIntact(layer, () => layer.backward(dy), 'INVALID_STATE', 'dy');
    expect(error.received).toContain('eval');
    layer.train();
    layer.forward(tensor(randomArray(4, 8), [4, 2]));
    layer.load(layer.stateSync());
    expectRejectedIntact(layer, () => layer.backward(dy), 'INVALID_STATE', 'dy');
  });

  it.each([
    [[2, 4]],
    [[4, 2, 1, 1]],
    [[8]],
  ])('dy of shape %s for x of shape [4, 2]: SHAPE_MISMATCH', (shape) => {
    const { layer } = trainedLayer();
    expectRejectedIntact(layer, () => layer.backward(tensor(new Float64Array(8), shape)), 'SHAPE_MISMATCH', 'dy.shape');
  });

  it.each([null, undefined, new Float64Array(8)])('dy not a tensor (%s): INVALID_ARGUMENT', (dy) => {
    const { layer } = trainedLayer();
    expectRejectedIntact(layer, () => layer.backward(dy as unknown as ReferenceTensor), 'INVALID_ARGUMENT', 'dy');
  });
});

describe('sgdStep()', () => {
  it('without gradients: INVALID_STATE', () => {
    const layer = new BatchNorm(reference, { numFeatures: 2 });
    expectRejectedIntact(layer, () => layer.sgdStep(0.1), 'INVALID_STATE', 'gradients');
  });

  it.each([NaN, Infinity, '0.1'])('learning rate %s: INVALID_ARGUMENT', (learningRate) => {
    const { layer } = trainedLayer();
    expectRejectedIntact(layer, () => layer.sgdStep(learningRate as number), 'INVALID_ARGUMENT', 'learningRate');
  });
});

describe('geometryOf and upload', () => {
  it('rejects an unknown layout', () => {
    expectBatchNormError(() => geometryOf('CHWN' as 'NC', [2, 2]), 'INVALID_ARGUMENT', 'layout');
  });

  it('upload: data length must match the shape', () => {
    const error = expectBatchNormError(() => reference.upload(new Float64Array(5), [2, 3]), 'SHAPE_MISMATCH', 'data');
    expect(error.expected).toContain('6 values');
    expect(error.received).toBe('5 values');
  });

  it.each([[[1, 2]], ['abc'], [null]])('upload: data must be a Float32Array or Float64Array (%s)', (data) => {
    expectBatchNormError(() => reference.upload(data as unknown as Float64Array, [2]), 'INVALID_ARGUMENT', 'data');
  });

  it.each([[[2, 0]], [[-1]], [[1.5, 2]], [6], ['6'], [null]])('upload: invalid shape %s', (shape) => {
    expectBatchNormError(() => reference.upload(new Float64Array(6), shape as unknown as number[]), 'INVALID_ARGUMENT', 'shape');
  });
});

describe('backend registry', () => {
  afterEach(() => {
    unregisterBackend('js');
    unregisterBackend('my-backend');
  });

  const moduleNotFound = (specifier: string) =>
    Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/main.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });

  const manifest = (name: string, createBackend: BackendModule['createBackend'] = () => createReferenceBackend()) =>
    ({
      name,
      packageName: `@example/${name}`,
      description: 'a test backend',
      createBackend,
      traits: { residence: 'host', tolerance: 'float64', requires: [], environments: ['node'] },
    }) satisfies BackendModule;

  it('the reference backend is always registered', async () => {
    expect(registeredBackends()).toContain('reference');
    const backend = await loadBackend('reference');
    expect(backend.name).toBe('reference');
    expect(unregisterBackend('reference')).toBe(false);
  });

  it('an unknown name: UNKNOWN_BACKEND, listing the known ones', async () => {
    const error = await expectBatchNormErrorAsync(() => loadBackend('cuda'), 'UNKNOWN_BACKEND', 'backend');
    expect(error.received).toBe('"cuda"');
    for (const known of ['reference', ...KNOWN_BACKENDS.map((k) => k.name)]) expect(error.expected).toContain(`"${known}"`);
  });

  it.each(['constructor', 'toString', '__proto__'])('%s is an unknown name, not an Object member', async (name) => {
    const imported: string[] = [];
    await expectBatchNormErrorAsync(
      () => loadBackend(name, {}, async (specifier) => imported.push(specifier)),
      'UNKNOWN_BACKEND',
      'backend',
    );
    expect(imported).toEqual([]);
  });

  it('a known backend whose package is missing: BACKEND_NOT_INSTALLED naming the package', async () => {
    const notFound = moduleNotFound('@batchnorm/backend-js');
    const error = await expectBatchNormErrorAsync(
      () =>
        loadBackend('js', {}, async (specifier) => {
          throw moduleNotFound(specifier);
        }),
      'BACKEND_NOT_INSTALLED',
      'backend',
    );
    expect(error.message).toContain('@batchnorm/backend-js');
    expect((error.cause as Error).message).toBe(notFound.message);
  });

  it('a known backend without an importer: BACKEND_NOT_INSTALLED naming the package', async () => {
    const error = await expectBatchNormErrorAsync(() => loadBackend('gpujs'), 'BACKEND_NOT_INSTALLED', 'backend');
    expect(error.message).toContain('@batchnorm/backend-gpujs');
  });

  it('a missing dependency of an installed backend is not masked', async () => {
    const inner = moduleNotFound('gl');
    await expect(
      loadBackend('js', {}, async () => {
        throw inner;
      }),
    ).rejects.toBe(inner);
  });

  it.each([
    ['no backendModule', {}],
    ['a manifest without traits', { backendModule: { ...manifest('js'), traits: undefined } }],
    ['an unknown tolerance profile', { backendModule: { ...manifest('js'), traits: { ...manifest('js').traits, tolerance: 'float16' } } }],
  ])('a package with %s: BACKEND_UNAVAILABLE', async (_, namespace) => {
    await expectBatchNormErrorAsync(() => loadBackend('js', {}, async () => namespace), 'BACKEND_UNAVAILABLE');
    expect(registeredBackends()).not.toContain('js');
  });

  it('a package whose manifest names another backend: BACKEND_UNAVAILABLE', async () => {
    const error = await expectBatchNormErrorAsync(
      () => loadBackend('js', {}, async () => ({ backendModule: manifest('gpujs') })),
      'BACKEND_UNAVAILABLE',
    );
    expect(error.argument).toContain('backendModule.name');
  });

  it('a backend of another contract version: BACKEND_UNAVAILABLE naming both versions', async () => {
    let destroyed = false;
    const v1 = () => ({ ...createReferenceBackend(), specificationVersion: 'v1', destroy: () => (destroyed = true) });
    const error = await expectBatchNormErrorAsync(
      () => loadBackend('js', {}, async () => ({ backendModule: manifest('js', v1 as unknown as BackendModule['createBackend']) })),
      'BACKEND_UNAVAILABLE',
      'backend',
    );
    expect(error.expected).toContain(SPECIFICATION_VERSION);
    expect(error.received).toContain('"v1"');
    expect(destroyed).toBe(true);
  });

  it('a package that loads is registered and created with the options', async () => {
    const seen: unknown[] = [];
    const imported: string[] = [];
    const importer = async (specifier: string) => {
      imported.push(specifier);
      return {
        backendModule: manifest('js', (options?: unknown) => {
          seen.push(options);
          return createReferenceBackend();
        }),
      };
    };
    const backend = await loadBackend('js', { threads: 2 }, importer);
    expect(backend.name).toBe('reference');
    expect(imported).toEqual(['@batchnorm/backend-js']);
    expect(seen).toEqual([{ threads: 2 }]);
    await loadBackend('js', {}, importer);
    expect(imported).toHaveLength(1); // registered: not imported again
    expect((await loadBackendModule('js')).traits.tolerance).toBe('float64');
  });

  it('registerBackend: a manifest whose name is a lower-case identifier', () => {
    const error = expectBatchNormError(() => registerBackend(manifest('My Backend')), 'BACKEND_UNAVAILABLE', 'module');
    expect(error.received).toContain('lower-case');
    registerBackend(manifest('my-backend'));
    expect(registeredBackends()).toContain('my-backend');
    expect(knownBackendNames()).toEqual(expect.arrayContaining(['reference', 'my-backend', 'js', 'gpujs', 'tfjs-node']));
  });
});

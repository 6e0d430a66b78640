import { BatchNormError, createRandom, geometryOf, LAYOUTS, referenceBackendModule } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { buildGrid, seedOf } from './grid.js';
import {
  allClose,
  batchInput,
  checkBackendPackage,
  expectAllClose,
  layoutShape,
  randomFloat32,
  randomValues,
  thrownBatchNormError,
  type BackendPackageExpectation,
} from './testing.js';

describe('@batchnorm/conformance/testing', () => {
  it('draws offset + scale·N(0, 1) from core\'s seeded generator, in float64 and rounded to float32', () => {
    const random = createRandom(7);
    const want = Array.from({ length: 5 }, () => 3 + 2 * random.normal());
    expect(Array.from(randomValues(7, 5, 2, 3))).toEqual(want);
    expect(Array.from(randomFloat32(7, 5, 2, 3))).toEqual(want.map(Math.fround));
    expect(randomValues(8, 5)).not.toEqual(randomValues(7, 5));
  });

  it('draws a batch as the grid does: the grid case\'s x from the case\'s seed', () => {
    const name = 'forwardInference/NHWC/2x3x5x7/mixed';
    const c = buildGrid().find((k) => k.name === name)!;
    expect(batchInput('NHWC', [2, 3, 5, 7], 'mixed', seedOf(name))).toEqual(c.inputs['x']);
  });

  it('holds numpy\'s allclose: atol + rtol·|want|, with the first value outside named', () => {
    expect(allClose([1, 2.0002], [1, 2], 0, 1e-4)).toEqual({ ok: true, message: '', toleranceRatio: expect.closeTo(1, 6) as number });
    const result = allClose([1, 2.001, 5], [1, 2, 3], 0, 1e-4);
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^2 of 3 values outside atol 0 \+ rtol 0.0001; first: value\[1\]: got 2.001, expected 2 /);
    expect(allClose([1], [1, 2], 1, 1).ok).toBe(false);
  });

  it('fails on NaN where a number was expected, and passes NaN only where NaN was expected', () => {
    expect(allClose([Number.NaN], [0], 1, 1).ok).toBe(false);
    expect(allClose([Number.NaN, Infinity], [Number.NaN, Infinity], 0, 0).ok).toBe(true);
    expect(allClose([1], [Number.NaN], 1, 1).ok).toBe(false);
  });

  it('expectAllClose throws the message, and on a missing array', () => {
    expect(() => expectAllClose([1, 2], [1, 2], 0, 0)).not.toThrow();
    expect(() => expectAllClose([1, 3], [1, 2], 0, 0.1)).toThrow(/^1 of 2 values outside atol 0 \+ rtol 0.1; first: value\[1\]/);
    expect(() => expectAllClose(undefined, [1], 0, 0)).toThrow('expectAllClose: got is undefined');
  });

  it('writes one shape for every layout, with the same N, C and m per feature', () => {
    const shapes = Object.fromEntries(LAYOUTS.map((layout) => [layout, layoutShape(layout, 4, 6, [5, 3, 2])]));
    expect(shapes).toEqual({
      NC: [120, 6],
      NCL: [4, 6, 30],
      NLC: [4, 30, 6],
      NCHW: [4, 6, 15, 2],
      NHWC: [4, 15, 2, 6],
      NCDHW: [4, 6, 5, 3, 2],
      NDHWC: [4, 5, 3, 2, 6],
    });
    for (const layout of LAYOUTS) expect(geometryOf(layout, shapes[layout]!)).toMatchObject({ c: 6, m: 120 });
  });

  it('thrownBatchNormError returns the BatchNormError thrown, and throws when there is none', () => {
    const thrown = new BatchNormError({ code: 'INVALID_ARGUMENT', argument: 'x', expected: 'a', received: 'b' });
    expect(thrownBatchNormError(() => {
      throw thrown;
    })).toBe(thrown);
    expect(() => thrownBatchNormError(() => 1)).toThrow('expected a BatchNormError, nothing was thrown');
    expect(() =>
      thrownBatchNormError(() => {
        throw new TypeError('x.shape is undefined');
      }),
    ).toThrow('expected a BatchNormError, caught TypeError: x.shape is undefined');
  });
});

describe('checkBackendPackage', () => {
  // core's built-in reference backend stands in for a package: registered by name, not listed
  const api = { backendModule: referenceBackendModule, createBackend: referenceBackendModule.createBackend };
  const expected: BackendPackageExpectation = {
    name: 'reference',
    packageName: '@batchnorm/core',
    traits: { residence: 'host', tolerance: 'float64', requires: [], environments: ['node', 'browser'] },
    listed: false,
  };
  const load = { importModule: (specifier: string) => import(specifier) };

  it('loads a package whose manifest says what is expected, and returns the backend', async () => {
    const backend = await checkBackendPackage(api, expected, load);
    expect(backend.name).toBe('reference');
    backend.destroy();
  });

  it('names the first difference: a trait, the factory, a v1 export, the KNOWN_BACKENDS listing', async () => {
    await expect(checkBackendPackage(api, { ...expected, traits: { ...expected.traits, requires: ['display'] } }, load)).rejects.toThrow(
      '@batchnorm/core: backendModule.traits.requires[0]: got undefined, expected "display"',
    );
    await expect(checkBackendPackage({ ...api, createBackend: () => undefined }, expected, load)).rejects.toThrow(
      "backendModule.createBackend is not the package's createBackend export",
    );
    await expect(checkBackendPackage({ ...api, backendName: 'reference' }, expected, load)).rejects.toThrow("v1's backendName");
    await expect(checkBackendPackage(api, { ...expected, listed: true }, load)).rejects.toThrow(
      'core\'s KNOWN_BACKENDS does not list "reference"',
    );
    await expect(checkBackendPackage({}, expected, load)).rejects.toMatchObject({ name: 'BackendPackageError' });
  });
});

import { BatchNorm, BatchNormError, createReferenceBackend } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import {
  complementMomentum,
  convertRunningVar,
  FRAMEWORK_CONVENTIONS,
  fromKeras,
  fromOnnx,
  fromPyTorch,
  shortestFloat32,
  toKeras,
  toOnnx,
  toPyTorch,
} from './conventions.js';
import { InteropError } from './errors.js';

describe('conventions translator', () => {
  it('PyTorch: the same sense and defaults as ours (momentum on the new batch, unbiased, 1e-5)', () => {
    expect(fromPyTorch()).toEqual({ momentum: 0.1, varianceCorrection: 'unbiased', epsilon: 1e-5 });
    expect(fromPyTorch({ momentum: null, eps: 1e-3 })).toEqual({ momentum: null, varianceCorrection: 'unbiased', epsilon: 1e-3 });
    expect(toPyTorch({ momentum: 0.3, varianceCorrection: 'unbiased', epsilon: 2e-5 })).toEqual({ momentum: 0.3, eps: 2e-5 });
  });

  it('Keras: momentum 0.99 on the old value is our 0.01, biased, 1e-3; and back exactly', () => {
    expect(fromKeras()).toEqual({ momentum: 0.01, varianceCorrection: 'biased', epsilon: 1e-3 });
    expect(fromKeras({ momentum: 0.9, epsilon: 1e-5 })).toEqual({ momentum: 0.1, varianceCorrection: 'biased', epsilon: 1e-5 });
    for (const m of [0.99, 0.9, 0.999, 0.5, 0, 1]) expect(toKeras(fromKeras({ momentum: m })).momentum).toBe(m);
  });

  it('ONNX: 0.9 on the old value is our 0.1, biased, 1e-5; float32 attributes read at their shortest decimal', () => {
    expect(fromOnnx()).toEqual({ momentum: 0.1, varianceCorrection: 'biased', epsilon: 1e-5 });
    // what a model stores: float32(0.9), float32(1e-5)
    expect(fromOnnx({ momentum: Math.fround(0.9), epsilon: Math.fround(1e-5) })).toEqual({
      momentum: 0.1,
      varianceCorrection: 'biased',
      epsilon: 1e-5,
    });
    expect(toOnnx({ momentum: 0.1, varianceCorrection: 'biased', epsilon: 1e-5 })).toEqual({ momentum: 0.9, epsilon: 1e-5 });
  });

  it('the table agrees with the functions', () => {
    for (const [framework, from] of [['pytorch', fromPyTorch], ['keras', fromKeras], ['onnx', fromOnnx]] as const) {
      const row = FRAMEWORK_CONVENTIONS[framework];
      const ours = from();
      expect(ours.varianceCorrection).toBe(row.runningVariance);
      expect(ours.epsilon).toBe(row.defaultEpsilon);
      expect(ours.momentum).toBe(row.momentumWeighs === 'new batch' ? row.defaultMomentum : complementMomentum(row.defaultMomentum));
    }
  });

  it('refuses what the other library cannot express, naming the setting (NOT_SUPPORTED)', () => {
    const biased = { momentum: 0.1, varianceCorrection: 'biased', epsilon: 1e-5 } as const;
    expect(() => toPyTorch(biased)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'conventions.varianceCorrection' }));
    expect(() => toKeras({ ...biased, varianceCorrection: 'unbiased' })).toThrow(InteropError);
    expect(() => toOnnx({ ...biased, momentum: null })).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', argument: 'conventions.momentum' }));
  });

  it('rejects bad values with the argument named', () => {
    expect(() => fromKeras({ momentum: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: 'keras.momentum' }));
    expect(() => fromPyTorch({ eps: 0 })).toThrow(expect.objectContaining({ argument: 'pytorch.eps' }));
    expect(() => fromOnnx({ epsilon: Number.NaN })).toThrow(BatchNormError);
    expect(() => toPyTorch({ momentum: 0.1, varianceCorrection: 'sample' as never, epsilon: 1e-5 })).toThrow(
      expect.objectContaining({ argument: 'conventions.varianceCorrection', code: 'INVALID_ARGUMENT' }),
    );
  });

  it('shortestFloat32 gives the decimal a float32 was written from', () => {
    expect(shortestFloat32(0.8999999761581421)).toBe(0.9);
    expect(shortestFloat32(9.999999747378752e-6)).toBe(1e-5);
    expect(shortestFloat32(0.30000001192092896)).toBe(0.3);
    expect(shortestFloat32(1)).toBe(1);
  });
});

describe('convertRunningVar', () => {
  it('is exact for batches of m values: a biased layer converted equals the unbiased one trained alike', async () => {
    const backend = createReferenceBackend();
    const m = 6;
    // momentum null: the exact average over the batches, so nothing of the initial ones remains
    const layers = (['biased', 'unbiased'] as const).map((varianceCorrection) => new BatchNorm(backend, { numFeatures: 2, momentum: null, varianceCorrection }));
    for (let step = 0; step < 4; step++) {
      const x = backend.upload(Float64Array.from({ length: m * 2 }, (_, i) => Math.sin(i * 1.7 + step) * (1 + step)), [m, 2]);
      for (const layer of layers) backend.dispose(layer.forward(x));
      backend.dispose(x);
    }
    const [biased, unbiased] = await Promise.all(layers.map((l) => l.state()));
    expect(biased!.runningVar[0]).not.toBeCloseTo(unbiased!.runningVar[0]!, 3);
    const converted = convertRunningVar(biased!.runningVar, 'biased', 'unbiased', m);
    converted.forEach((v, k) => expect(v).toBeCloseTo(unbiased!.runningVar[k]!, 12));
    convertRunningVar(converted, 'unbiased', 'biased', m).forEach((v, k) => expect(v).toBeCloseTo(biased!.runningVar[k]!, 12));
  });

  it('requires a batch size ≥ 2', () => {
    expect(() => convertRunningVar([1], 'biased', 'unbiased', 1)).toThrow(expect.objectContaining({ argument: 'batchSize' }));
    expect(() => convertRunningVar([1], 'x' as never, 'unbiased', 4)).toThrow(expect.objectContaining({ argument: 'from' }));
  });
});

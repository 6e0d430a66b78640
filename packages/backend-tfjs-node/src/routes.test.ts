import { BatchNorm } from '@batchnorm/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomValues } from '@batchnorm/conformance/testing';
import { tfjs } from './__tests__/helpers.js';
import { loadTensorFlow } from './loader.js';

const { native } = loadTensorFlow();

interface OpCall {
  readonly name: string;
  readonly dataFormat: unknown;
  readonly isTraining: unknown;
}

/** Records the TensorFlow ops run through tfjs-node's raw-op entry while `f` runs. */
function recordOps(f: () => void): OpCall[] {
  const spy = vi.spyOn(native, 'executeMultipleOutputs');
  try {
    f();
    return spy.mock.calls.map(([name, attrs]) => ({
      name,
      dataFormat: attrs.find((a) => a.name === 'data_format')?.value,
      isTraining: attrs.find((a) => a.name === 'is_training')?.value,
    }));
  } finally {
    spy.mockRestore();
  }
}

describe('kernel routes on tfjs-node', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reports TensorFlow, tfjs-node and the fused routes in details', () => {
    expect(tfjs.details.tfjsNode).toBe('4.22.0');
    expect(tfjs.details.tensorflow).toMatch(/^2\.\d+/);
    expect(tfjs.details.device).toBe('cpu');
    expect(tfjs.details['route.batchNormBackward']).toContain('channels-last, NC: FusedBatchNormGradV3');
  });

  it.each([
    ['NC', [8, 4], 'NHWC'],
    ['NLC', [2, 9, 4], 'NHWC'],
    ['NHWC', [2, 3, 3, 4], 'NHWC'],
    ['NDHWC', [2, 2, 3, 3, 4], 'NHWC'],
    // one position per map: the memory of [N, C], no transpose needed
    ['NCHW', [8, 4, 1, 1], 'NHWC'],
  ] as const)('a BatchNorm training step on %s %j runs one FusedBatchNormV3 and one FusedBatchNormGradV3 (%s)', (layout, shape, dataFormat) => {
    const size = shape.reduce((a: number, d: number) => a * d, 1);
    const x = tfjs.upload(randomValues(1, size), shape);
    const dy = tfjs.upload(randomValues(2, size), shape);
    const layer = new BatchNorm(tfjs, { numFeatures: 4, layout });
    const ops = recordOps(() => {
      tfjs.dispose(layer.forward(x));
      tfjs.dispose(layer.backward(dy));
    });
    const batchNormOps = ops.filter((op) => op.name.startsWith('FusedBatchNorm'));
    expect(batchNormOps).toEqual([
      { name: 'FusedBatchNormV3', dataFormat, isTraining: true },
      { name: 'FusedBatchNormGradV3', dataFormat, isTraining: true },
    ]);
    layer.eval();
    const inference = recordOps(() => tfjs.dispose(layer.forward(x)));
    expect(inference.filter((op) => op.name.startsWith('FusedBatchNorm'))).toEqual([
      { name: 'FusedBatchNormV3', dataFormat, isTraining: false },
    ]);
    layer.dispose();
    tfjs.dispose(x);
    tfjs.dispose(dy);
  });

  it.each([
    ['NCL', [2, 4, 9]],
    ['NCHW', [2, 4, 3, 3]],
    ['NCDHW', [2, 4, 3, 1, 3]],
  ] as const)('channels-first %s %j is composed from tfjs ops: no fused op (TensorFlow would transpose it inside)', (layout, shape) => {
    const x = tfjs.upload(randomValues(1, 72), shape);
    const layer = new BatchNorm(tfjs, { numFeatures: 4, layout });
    const ops = recordOps(() => {
      tfjs.dispose(layer.forward(x));
      tfjs.dispose(layer.backward(x));
      layer.eval();
      tfjs.dispose(layer.forward(x));
    });
    expect(ops.filter((op) => op.name.startsWith('FusedBatchNorm'))).toEqual([]);
    layer.dispose();
    tfjs.dispose(x);
  });

  it('sigmoidBackward and reluBackward run TensorFlow’s SigmoidGrad and ReluGrad', () => {
    const x = tfjs.upload(randomValues(3, 6), [2, 3]);
    const ops = recordOps(() => {
      tfjs.dispose(tfjs.sigmoidBackward(x, x));
      tfjs.dispose(tfjs.reluBackward(x, x));
    });
    expect(ops.map((op) => op.name)).toEqual(['SigmoidGrad', 'ReluGrad']);
    tfjs.dispose(x);
  });
});

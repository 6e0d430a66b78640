import {
  geometryOf,
  runningAverageAttrs,
  type Backend,
  type BatchNormAttrs,
  type Layout,
  type TensorData,
  type TensorHandle,
} from '@batchnorm/core';
import type { ConformanceCase } from './types.js';

/** Host data for `upload`: float32 backends get float32 (what the layer gives them too). */
export function hostData(backend: Pick<Backend, 'dtype'>, values: ArrayLike<number>): TensorData {
  return backend.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

/**
 * Tracks every handle and `saved` made for one case, so each is released exactly once whatever
 * happens (disposing twice is allowed by the contract, but we do not rely on it here; `releaseSaved`
 * tests it on purpose).
 */
export class Handles<T extends TensorHandle, S> {
  readonly #owned = new Set<T>();
  readonly #saved: S[] = [];
  constructor(readonly backend: Backend<T, S>) {}

  upload(values: ArrayLike<number>, shape: readonly number[]): T {
    return this.own(this.backend.upload(hostData(this.backend, values), shape));
  }

  own<U extends T>(handle: U): U {
    this.#owned.add(handle);
    return handle;
  }

  ownSaved(saved: S): S {
    this.#saved.push(saved);
    return saved;
  }

  /** `param` was consumed by an in-place kernel: forget it if the result is a different handle. */
  consumed(handle: T): void {
    this.#owned.delete(handle);
  }

  /** Disposes `handle` now (it was owned). */
  disposeNow(handle: T): void {
    this.#owned.delete(handle);
    this.backend.dispose(handle);
  }

  /**
   * Releases every `saved` twice: the contract makes `disposeSaved` idempotent, and checking it
   * costs nothing (a backend that throws on the second call fails the case).
   */
  releaseSaved(): void {
    for (const saved of this.#saved.splice(0)) {
      this.backend.disposeSaved(saved);
      this.backend.disposeSaved(saved);
    }
  }

  disposeAll(): void {
    for (const saved of this.#saved.splice(0)) this.backend.disposeSaved(saved);
    for (const handle of this.#owned) this.backend.dispose(handle);
    this.#owned.clear();
  }
}

function input(c: ConformanceCase, key: string): Float64Array {
  const value = c.inputs[key];
  if (value === undefined) throw new Error(`inputs.${key} is missing`);
  return value;
}

function shapeOf(c: ConformanceCase, key: string): readonly number[] {
  const shape = c.shapes?.[key];
  if (shape === undefined) throw new Error(`shapes.${key} is missing`);
  return shape;
}

function layoutOfCase(c: ConformanceCase): Layout {
  if (c.layout === undefined) throw new Error(`op ${c.op} needs a layout`);
  return c.layout;
}

/**
 * Runs the op of `c` on `backend`; returns every output the case expects, read to the host
 * through `await backend.read` (the one read every backend has).
 */
export async function execute<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  c: ConformanceCase,
  handles: Handles<T, S>,
): Promise<Record<string, TensorData>> {
  const outputs: Record<string, T> = {};
  const up = (key: string, shape: readonly number[]): T => handles.upload(input(c, key), shape);
  switch (c.op) {
    case 'forwardTraining':
    case 'forwardInference':
    case 'backward': {
      const layout = layoutOfCase(c);
      const g = geometryOf(layout, c.shape);
      const attrs: BatchNormAttrs = { layout, epsilon: c.epsilon ?? 1e-5 };
      const x = up('x', c.shape);
      const gamma = up('gamma', [g.c]);
      if (c.op === 'forwardInference') {
        outputs['y'] = handles.own(
          backend.batchNormForwardInference(
            { x, gamma, beta: up('beta', [g.c]), mean: up('runningMean', [g.c]), variance: up('runningVar', [g.c]) },
            attrs,
          ),
        );
        break;
      }
      // backward cases have no β: it does not enter any gradient
      const beta = c.inputs['beta'] === undefined ? handles.upload(new Float64Array(g.c), [g.c]) : up('beta', [g.c]);
      // backward takes the `saved` of the backend's own training forward on x
      const forward = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
      const saved = handles.ownSaved(forward.saved);
      const y = handles.own(forward.y);
      const mean = handles.own(forward.mean);
      const variance = handles.own(forward.variance);
      if (c.op === 'backward') {
        // `saved` must not depend on the forward's outputs: dispose them before backward
        for (const t of [y, mean, variance]) handles.disposeNow(t);
        const grads = backend.batchNormBackward({ dy: up('dy', c.shape), x, gamma, saved }, attrs);
        outputs['dx'] = handles.own(grads.dx);
        outputs['dgamma'] = handles.own(grads.dgamma);
        outputs['dbeta'] = handles.own(grads.dbeta);
        break;
      }
      Object.assign(outputs, { y, mean, variance });
      if (c.expected['runningMean'] !== undefined || c.expected['runningVar'] !== undefined) {
        const momentum = Number(c.attrs?.['momentum']);
        const unbiased = (c.attrs?.['varianceCorrection'] ?? 'unbiased') === 'unbiased';
        const running = runningAverageAttrs(momentum, unbiased ? 'unbiased' : 'biased', g.m);
        outputs['runningMean'] = handles.own(
          backend.runningAverage({ running: up('runningMean', [g.c]), batch: mean }, running.mean),
        );
        outputs['runningVar'] = handles.own(
          backend.runningAverage({ running: up('runningVar', [g.c]), batch: variance }, running.variance),
        );
      }
      break;
    }
    case 'runningAverage': {
      const attrs = { factor: Number(c.attrs?.['factor']), batchScale: Number(c.attrs?.['batchScale'] ?? 1) };
      outputs['out'] = handles.own(
        backend.runningAverage(
          { running: up('running', shapeOf(c, 'running')), batch: up('batch', shapeOf(c, 'batch')) },
          attrs,
        ),
      );
      break;
    }
    case 'matMul':
      outputs['out'] = handles.own(
        backend.matMul(up('a', shapeOf(c, 'a')), up('b', shapeOf(c, 'b')), {
          transposeA: c.attrs?.['transposeA'] === true,
          transposeB: c.attrs?.['transposeB'] === true,
        }),
      );
      break;
    case 'addBias':
      outputs['out'] = handles.own(backend.addBias(up('x', shapeOf(c, 'x')), up('bias', shapeOf(c, 'bias'))));
      break;
    case 'sumRows':
      outputs['out'] = handles.own(backend.sumRows(up('x', shapeOf(c, 'x'))));
      break;
    case 'sigmoid':
      outputs['out'] = handles.own(backend.sigmoid(up('x', shapeOf(c, 'x'))));
      break;
    case 'sigmoidBackward':
      outputs['out'] = handles.own(backend.sigmoidBackward(up('dy', shapeOf(c, 'dy')), up('y', shapeOf(c, 'y'))));
      break;
    case 'relu':
      outputs['out'] = handles.own(backend.relu(up('x', shapeOf(c, 'x'))));
      break;
    case 'reluBackward':
      outputs['out'] = handles.own(backend.reluBackward(up('dy', shapeOf(c, 'dy')), up('x', shapeOf(c, 'x'))));
      break;
    case 'softmaxCrossEntropy': {
      const { loss, dLogits } = backend.softmaxCrossEntropy(
        up('logits', shapeOf(c, 'logits')),
        up('labels', shapeOf(c, 'labels')),
      );
      outputs['loss'] = handles.own(loss);
      outputs['dLogits'] = handles.own(dLogits);
      break;
    }
    case 'sgdUpdate': {
      const param = up('param', shapeOf(c, 'param'));
      // the param is consumed: the backend updated it in place or disposed it
      handles.consumed(param);
      outputs['out'] = handles.own(
        backend.sgdUpdate(param, up('grad', shapeOf(c, 'grad')), { learningRate: Number(c.attrs?.['learningRate']) }),
      );
      break;
    }
  }
  const host: Record<string, TensorData> = {};
  for (const key of Object.keys(c.expected)) {
    const handle = outputs[key];
    if (handle === undefined) throw new Error(`op ${c.op} has no output "${key}"`);
    host[key] = await backend.read(handle);
  }
  handles.releaseSaved();
  return host;
}

import type { Backend, TensorHandle } from './backend.js';
import { BatchNormError } from './errors.js';
import { assertTensor } from './handles.js';
import { geometryOf, type Geometry } from './layout.js';
import { hasSyncReads, type SyncBackend } from './reads.js';
import type { Layout } from './types.js';
import { invalid, sameShape } from './validate.js';

// The checks at the layer's boundary, each throwing a BatchNormError that names the argument.

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** `x` as a live tensor of `backend` with `numFeatures` features in `layout`; its geometry. */
export function checkedInput<T extends TensorHandle>(
  backend: Backend<T>,
  x: T,
  argument: string,
  layout: Layout,
  numFeatures: number,
): Geometry {
  if (typeof x !== 'object' || x === null || !Array.isArray(x.shape)) {
    throw invalid(argument, `a tensor of backend "${backend.name}"`, x);
  }
  // before its shape is trusted: a look-alike or foreign tensor is refused whatever its shape
  assertTensor(backend, x, argument);
  const geometry = geometryOf(layout, x.shape, `${argument}.shape`);
  if (geometry.c !== numFeatures) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: `${argument}.shape`,
      expected: `C = ${numFeatures} features in layout ${layout}`,
      received: `${describeShape(x.shape)} (C = ${geometry.c})`,
    });
  }
  return geometry;
}

/** A training batch needs a variance: at least 2 values per feature. */
export function assertTrainingBatch(shape: readonly number[], m: number): void {
  if (m >= 2) return;
  throw new BatchNormError({
    code: 'INVALID_ARGUMENT',
    argument: 'x.shape',
    expected: 'at least 2 values per feature in training (m = N·spatial ≥ 2)',
    received: `[${shape.join(', ')}] (m = ${m})`,
    hint: 'A batch of one has no variance; use eval() for single samples.',
  });
}

/** `dy` for a `backward` after a training forward on `x` (undefined: no such forward). */
export function assertGradientInput<T extends TensorHandle>(
  backend: Backend<T>,
  dy: T,
  x: T | undefined,
  training: boolean,
): asserts x is T {
  if (x === undefined) {
    throw new BatchNormError({
      code: 'INVALID_STATE',
      argument: 'dy',
      expected: 'a training-mode forward() before backward()',
      received: training ? 'no forward since the last state change' : 'a layer in eval mode',
    });
  }
  if (typeof dy !== 'object' || dy === null || !Array.isArray(dy.shape)) {
    throw invalid('dy', `a tensor of backend "${backend.name}"`, dy);
  }
  assertTensor(backend, dy, 'dy');
  if (!sameShape(dy.shape, x.shape)) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'dy.shape',
      expected: `the shape of the forward input [${x.shape.join(', ')}]`,
      received: describeShape(dy.shape),
    });
  }
}

/** What `sgdStep` needs: a finite learning rate and the gradients of a `backward`. */
export function assertSgdStep<G>(learningRate: number, gradients: G | undefined): asserts gradients is G {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate)) {
    throw invalid('learningRate', 'a finite number', learningRate);
  }
  if (gradients === undefined) {
    throw new BatchNormError({
      code: 'INVALID_STATE',
      argument: 'gradients',
      expected: 'a backward() before sgdStep()',
      received: 'no gradients',
    });
  }
}

/** `backend` as one that reads synchronously, for the layer's `method`, or `NOT_SUPPORTED`. */
export function syncBackendFor<T extends TensorHandle>(backend: Backend<T>, method: string): SyncBackend<T> {
  if (hasSyncReads(backend)) return backend;
  throw new BatchNormError({
    code: 'NOT_SUPPORTED',
    argument: 'backend',
    expected: `a backend that declares readSync for ${method}()`,
    received: `backend "${backend.name}", which reads asynchronously only`,
    hint: `Use await layer.${method.replace('Sync', '')}() instead.`,
  });
}

import {
  isChannelsLast,
  layoutRank,
  type Backend,
  type BatchNorm,
  type BatchNormErrorCode,
  type BatchNormOptions,
  type Layout,
  type TensorHandle,
} from '@batchnorm/core';

/** What a scenario can make besides the layer: tensors of the backend, of another one, of a second instance. */
export interface ScenarioContext<T extends TensorHandle = TensorHandle> {
  /** The backend under test (the layer's). */
  readonly backend: Backend<T>;
  /** A tensor of the backend under test; released after the scenario. */
  upload(values: number[], shape: number[]): T;
  /** A tensor of another backend: a reference backend instance of the scenario's own. */
  foreign(values: number[], shape: number[]): TensorHandle;
  /**
   * A tensor of a second instance of the backend under test (for the reference: another reference
   * instance). Only in scenarios with `secondInstance: true`.
   */
  secondInstance(values: number[], shape: number[]): TensorHandle;
}

/** What an error scenario does with a backend: build a layer, or act on one that has trained. */
export interface ErrorScenario {
  readonly name: string;
  readonly layout: Layout;
  /** Constructor scenarios: the options to reject. */
  readonly construct?: (numFeatures: number) => BatchNormOptions;
  /**
   * Layer scenarios: the call to reject, on a layer that trained on two batches. It may return
   * a promise (a `load` of an edited `await state()`).
   */
  readonly act?: <T extends TensorHandle>(
    layer: BatchNorm<T>,
    upload: (values: number[], shape: number[]) => T,
    context: ScenarioContext<T>,
  ) => unknown;
  /** The error the reference must give (else the scenario itself is wrong); default: any `BatchNormError`. */
  readonly expected?: { readonly code: BatchNormErrorCode; readonly argument: string };
  /** The scenario needs a second instance of the backend under test (`context.secondInstance`). */
  readonly secondInstance?: boolean;
  /**
   * A property every backend must have, instead of a call to reject: returns what is wrong, or
   * `undefined`. Checked on the reference first (where it must hold), then on the backend.
   */
  readonly verify?: <T extends TensorHandle>(context: ScenarioContext<T>) => Promise<string | undefined>;
}

export const C = 3;

/** A shape in `layout`'s own order: `n` samples, `c` features, every spatial axis `side` long. */
export function shapeIn(layout: Layout, n: number, c: number, side = 2): number[] {
  const spatial = new Array<number>(layoutRank(layout) - 2).fill(side);
  return isChannelsLast(layout) ? [n, ...spatial, c] : [n, c, ...spatial];
}

/** The batch every layer scenario trains on: m = 4 values per feature in every layout. */
export function trainingShape(layout: Layout): number[] {
  return shapeIn(layout, layoutRank(layout) === 2 ? 4 : 2, C);
}

export function ramp(length: number, shift = 0): number[] {
  return Array.from({ length }, (_, i) => Math.fround(Math.sin(i + shift) * 2 + (i % C)));
}

export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

import { KERNEL_NAMES, type KernelName } from './backend.js';
import { BatchNormError, describeValue } from './errors.js';

/**
 * A backend's kernels written as functions of its own context (its device, pool or engine), one
 * per kernel of the contract: `matMul(ctx, a, b, attrs)`.
 */
export type ContextKernels<C> = { readonly [N in KernelName]: (ctx: C, ...args: never[]) => unknown };

/** Those kernels as a backend's methods: each with its own signature, the context left out. */
export type BoundKernels<C, K extends ContextKernels<C>> = {
  readonly [N in KernelName]: K[N] extends (ctx: C, ...args: infer A) => infer R ? (...args: A) => R : never;
};

export interface BindKernelsOptions {
  /**
   * Runs every call: `run()` calls the kernel. For what a backend does around each kernel (time
   * it, reset per-call scratch memory); it must return what `run()` returned.
   */
  readonly around?: <R>(kernel: KernelName, run: () => R) => R;
}

/**
 * The kernel methods of a backend, from its kernel functions and their context: the part of
 * `handles.guard({ … })` every backend of the repository writes the same way.
 *
 * ```ts
 * return handles.guard({ name: 'mine', …, ...bindKernels(ctx, { batchNormForwardTraining, …, sgdUpdate }) });
 * ```
 *
 * @throws BatchNormError `INVALID_ARGUMENT` naming the key when `kernels` lacks a kernel of the
 * contract, holds something else than a function for one, or holds a key that is no kernel
 * (a misspelling would otherwise go unused).
 */
export function bindKernels<C, K extends ContextKernels<C>>(
  context: C,
  kernels: K,
  options: BindKernelsOptions = {},
): BoundKernels<C, K> {
  for (const key of Object.keys(kernels)) {
    if (!(KERNEL_NAMES as readonly string[]).includes(key)) {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: `kernels.${key}`,
        expected: `only the kernels of the contract (${KERNEL_NAMES.join(', ')})`,
        received: `the unknown key "${key}"`,
      });
    }
  }
  const { around } = options;
  const bound: Partial<Record<KernelName, (...args: never[]) => unknown>> = {};
  for (const name of KERNEL_NAMES) {
    const kernel: unknown = kernels[name];
    if (typeof kernel !== 'function') {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: `kernels.${name}`,
        expected: `the function of the kernel ${name}, called with the context first`,
        received: describeValue(kernel),
      });
    }
    const call = kernel as (ctx: C, ...args: never[]) => unknown;
    bound[name] =
      around === undefined
        ? (...args) => call(context, ...args)
        : (...args) => around(name, () => call(context, ...args));
  }
  return bound as BoundKernels<C, K>;
}

import { KERNEL_NAMES, type Backend, type TensorHandle } from './backend.js';

/** A macrotask later: later than every microtask, as a GPU's `mapAsync` settles. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * `inner` as a backend that only reads asynchronously, as WebGPU does: `readSync`, `readInto`
 * and `readFloat64Sync` are hidden, and every `read` (and `readFloat64`, where `inner` has it)
 * settles on a later macrotask (with the values as they were when it was called). For testing
 * that code works on such backends; the kernels are `inner`'s own, so results are bit-identical
 * to it.
 */
export function asyncOnly<T extends TensorHandle, S>(inner: Backend<T, S>): Backend<T, S> {
  const methods = ['isTensor', 'upload', 'dispose', 'disposeSaved', 'destroy', ...KERNEL_NAMES] as const;
  const bound = Object.fromEntries(
    methods.map((m) => [m, (inner[m] as (...args: unknown[]) => unknown).bind(inner)]),
  ) as Pick<Backend<T, S>, (typeof methods)[number]>;
  return {
    ...bound,
    name: inner.name,
    specificationVersion: inner.specificationVersion,
    dtype: inner.dtype,
    details: { ...inner.details, reads: 'async-only' },
    // the kernels are inner's: so is how they complete
    ...(inner.completion === undefined ? {} : { completion: inner.completion }),
    ...(inner.onSubmittedWorkDone === undefined ? {} : { onSubmittedWorkDone: () => inner.onSubmittedWorkDone!() }),
    async read(t) {
      const values = await inner.read(t);
      await nextMacrotask();
      return values;
    },
    ...(inner.readFloat64 === undefined
      ? {}
      : {
          async readFloat64(t: T) {
            const values = await inner.readFloat64!(t);
            await nextMacrotask();
            return values;
          },
        }),
  };
}

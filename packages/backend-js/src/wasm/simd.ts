import { wasmApi, type WasmMemory, type WasmModule } from './api.js';
import { WasmHeap } from './heap.js';
import { WASM_MODULES } from './modules.generated.js';

export type SimdLoopName = keyof typeof WASM_MODULES;
/** A loop returns nothing, except `widen` (1 when every value it copied is finite). */
type SimdLoop = (...args: number[]) => unknown;

/**
 * The WebAssembly SIMD versions of the batch-norm loops, over one shared memory. Each takes the
 * arguments of its JavaScript twin in `loops/`, with every array replaced by its byte offset.
 */
export interface SimdRuntime {
  readonly heap: WasmHeap;
  readonly memory: WasmMemory;
  /** Compiled modules, for worker threads to instantiate over the same memory. */
  readonly modules: Readonly<Record<SimdLoopName, WasmModule>>;
  readonly loops: Readonly<Record<SimdLoopName, SimdLoop>>;
}

/** Pages of the memory's maximum: 4 GiB less one page, so `pointer + 16` never wraps in the loops. */
const MAX_PAGES = 65535;

function decode(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Instantiates the loops over `memory` (also what each worker thread does with the modules). */
export function instantiateLoops(
  modules: Readonly<Record<SimdLoopName, WasmModule>>,
  memory: WasmMemory,
): Record<SimdLoopName, SimdLoop> {
  const wasm = api();
  const loops = {} as Record<SimdLoopName, SimdLoop>;
  for (const name of Object.keys(modules) as SimdLoopName[]) {
    const instance = new wasm.Instance(modules[name], { env: { memory } });
    loops[name] = instance.exports[name] as SimdLoop;
  }
  return loops;
}

function api(): NonNullable<typeof wasmApi> {
  if (wasmApi === undefined) throw new Error('this engine has no WebAssembly');
  return wasmApi;
}

let runtime: SimdRuntime | null | undefined;
let unavailableReason = '';

/**
 * The process-wide (per thread) SIMD runtime, shared by every js backend, created on first use;
 * `undefined` where WebAssembly SIMD or shared memory is missing (older engines, browser pages
 * without cross-origin isolation): the backend then runs its JavaScript loops.
 */
export function simdRuntime(): SimdRuntime | undefined {
  if (runtime === undefined) {
    try {
      const wasm = api();
      const memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
      const modules = {} as Record<SimdLoopName, WasmModule>;
      for (const name of Object.keys(WASM_MODULES) as SimdLoopName[]) {
        // Each module is under 1 KB, so synchronous compilation is allowed on a browser's main thread too.
        modules[name] = new wasm.Module(decode(WASM_MODULES[name]));
      }
      runtime = { heap: new WasmHeap(memory), memory, modules, loops: instantiateLoops(modules, memory) };
    } catch (error) {
      runtime = null;
      unavailableReason = error instanceof Error ? error.message : String(error);
    }
  }
  return runtime ?? undefined;
}

/** Why `simdRuntime()` is `undefined` (empty while it is available or not yet tried). */
export function simdUnavailableReason(): string {
  return unavailableReason;
}

export function isSimdLoop(name: string): name is SimdLoopName {
  return Object.hasOwn(WASM_MODULES, name);
}

/** The loop's arguments as the SIMD loop takes them: arrays become byte offsets. */
export function pointerArgs(args: readonly unknown[]): number[] {
  return args.map((value) => (ArrayBuffer.isView(value) ? value.byteOffset : (value as number)));
}

/** Whether every array among `args` lies in the heap, so the SIMD loop can run on them. */
export function inHeap(heap: WasmHeap, args: readonly unknown[]): boolean {
  return args.every((value) => !ArrayBuffer.isView(value) || heap.owns(value));
}

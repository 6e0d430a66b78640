// The few WebAssembly members this package uses, typed here: Node 20's type definitions
// (@types/node 20) declare no WebAssembly, and the DOM library would bring in far more.

export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** A compiled module; opaque here (it is only instantiated, or posted to a worker). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
}

/** The engine's WebAssembly, or `undefined` where there is none. */
export const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

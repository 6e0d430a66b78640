import { loadBackend, type Backend, type BackendOptions } from '@batchnorm/core';

/** Backends the CLI offers, in order of preference for the default. */
export const BACKEND_NAMES = ['js', 'gpujs', 'tfjs-node', 'reference'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Loads a backend by registry name, resolving its package from this app's dependencies. */
export function createBackend(name: string, options: BackendOptions = {}): Promise<Backend> {
  return loadBackend(name, options, (specifier) => import(specifier));
}

/** Where reading C values back per BN layer per step is free enough to keep BatchNorm's check. */
export function hostMemoryBackend(name: string): boolean {
  return name !== 'gpujs';
}

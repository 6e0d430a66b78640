import { availableParallelism } from 'node:os';
import {
  KNOWN_BACKENDS,
  loadBackend,
  loadBackendModule,
  referenceBackendModule,
  type Backend,
  type BackendModule,
  type BackendOptions,
  type BackendRequirement,
  type ModuleImporter,
} from '@batchnorm/core';

/**
 * The backends the CLI offers: core's one list of backend packages, then the built-in reference.
 */
export const BACKEND_NAMES: readonly string[] = [...KNOWN_BACKENDS.map((k) => k.name), referenceBackendModule.name];

/**
 * Imports a backend package from this app's location. This app lists no backend package: in the
 * workspace the root package.json depends on every package of `KNOWN_BACKENDS` (kept in step by
 * scripts/sync-backends.mjs), so Node's lookup finds it in the root node_modules.
 */
export const importBackendPackage: ModuleImporter = (specifier) => import(specifier);

/** What each requirement of a manifest's traits asks of the person running the CLI. */
const REQUIREMENT_HINTS: Readonly<Record<BackendRequirement, string>> = {
  display: 'an X display (headless-gl): run under xvfb-run -a',
  'native-binding': "its native binding, built by its package's setup (scripts/setup.sh does it here)",
  'webgpu-adapter': 'a WebGPU adapter (a browser, or Dawn in Node: see @batchnorm/backend-webgpu)',
};

/** One line saying what `module` needs from the environment, or undefined when it needs nothing. */
export function requirementsHint(module: BackendModule): string | undefined {
  const { requires } = module.traits;
  if (requires.length === 0) return undefined;
  return `backend "${module.name}" needs ${requires.map((r) => REQUIREMENT_HINTS[r]).join('; and ')}`;
}

/** A backend and the manifest it came from (its traits drive messages and defaults). */
export interface OpenedBackend {
  readonly module: BackendModule;
  readonly backend: Backend;
}

/** An error creating a backend, with what its manifest says the environment must provide. */
export class BackendStartError extends Error {
  override readonly name = 'BackendStartError';
}

/**
 * Loads a backend by registry name, resolving its package through `importBackendPackage`. A
 * failure to create it names what the manifest's traits require (a display, a native binding).
 */
export async function openBackend(name: string, options: BackendOptions = {}): Promise<OpenedBackend> {
  const module = await loadBackendModule(name, importBackendPackage);
  try {
    return { module, backend: await loadBackend(name, options, importBackendPackage) };
  } catch (error) {
    const hint = requirementsHint(module);
    if (hint === undefined) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new BackendStartError(`${message} (${hint})`, { cause: error });
  }
}

/**
 * Whether BatchNorm's finite check is worth its reads on this backend: where tensors live in host
 * memory, reading C values per layer per step back is free; on a device each read is a
 * synchronization (the loss, read every step, still catches divergence there).
 */
export function cheapFiniteCheck(module: BackendModule): boolean {
  return module.traits.residence === 'host';
}

/**
 * Options that make a backend's results independent of how many variants run at once: `js`
 * computes each output row whole on one thread, so one thread gives the bits of two
 * (`parallel.test.ts` checks a run against one in this thread on the default two).
 */
const ONE_CORE_OPTIONS: Readonly<Record<string, BackendOptions>> = { js: { threads: 1 } };

/**
 * How the variants of a run may train at once, each in a worker thread on a backend of its own with
 * one core (the backend's name and options), or undefined: one variant, fewer cores than variants,
 * or a backend not known to give the same bits that way.
 */
export function variantWorkers(
  name: string,
  options: BackendOptions,
  variants: number,
  cores = availableParallelism(),
): { readonly name: string; readonly options: BackendOptions } | undefined {
  const oneCore = ONE_CORE_OPTIONS[name];
  if (oneCore === undefined || variants < 2 || cores < variants) return undefined;
  return { name, options: { ...options, ...oneCore } };
}

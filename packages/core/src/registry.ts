import { SPECIFICATION_VERSION, type Backend } from './backend.js';
import { KNOWN_BACKENDS } from './knownBackends.js';
import { BatchNormError, describeValue } from './errors.js';
import { createReferenceBackend } from './reference/index.js';

/** Options a backend factory accepts; each backend documents its own keys (e.g. `mode`). */
export type BackendOptions = Readonly<Record<string, unknown>>;

export type BackendFactory<B extends Backend = Backend> = (options?: BackendOptions) => B | Promise<B>;

/** The conformance suite's tolerance profiles (derived in `@batchnorm/conformance`). */
export type ToleranceProfileName = 'float64' | 'float32' | 'float32-gpu';

/** What the environment must provide before a backend can be created. */
export type BackendRequirement =
  /** an X display (headless-gl): tools run it under `xvfb-run` */
  | 'display'
  /** a compiled native addon that its package's setup builds */
  | 'native-binding'
  /** a WebGPU adapter (a browser, or Dawn in Node) */
  | 'webgpu-adapter';

/** Facts about a backend that tools need before (or without) creating one. */
export interface BackendTraits {
  /** Where tensors live between kernels: host memory, or a device (GPU, native engine). */
  readonly residence: 'host' | 'device';
  /** The tolerance profile conformance judges it with. */
  readonly tolerance: ToleranceProfileName;
  /** What the environment must provide; empty for plain JavaScript. */
  readonly requires: readonly BackendRequirement[];
  /** Where it runs. */
  readonly environments: readonly ('node' | 'browser')[];
}

/**
 * A backend package's manifest: `export const backendModule = { … } satisfies BackendModule`.
 * `loadBackendModule(name, importer)` finds it (a registered one, or the package `KNOWN_BACKENDS`
 * lists for `name`, imported and then registered); the tools (the conformance CLI, the MNIST app,
 * the bench, the interop tests) read its `traits` before creating anything, and create the
 * backend with `loadBackend`, which calls `createBackend` and refuses a backend of another
 * contract version.
 */
export interface BackendModule<B extends Backend = Backend> {
  /** The registry name, e.g. `js`. */
  readonly name: string;
  /** The npm package that exports this manifest. */
  readonly packageName: string;
  /** One line saying what the backend is. */
  readonly description: string;
  readonly createBackend: BackendFactory<B>;
  readonly traits: BackendTraits;
}

/** The reference backend's manifest: built in, always registered. */
export const referenceBackendModule = {
  name: 'reference',
  packageName: '@batchnorm/core',
  description: 'float64 on the host, written for clarity from the paper: the judge of the others',
  createBackend: () => createReferenceBackend(),
  traits: { residence: 'host', tolerance: 'float64', requires: [], environments: ['node', 'browser'] },
} as const satisfies BackendModule;

const modules = new Map<string, BackendModule>([['reference', referenceBackendModule]]);

const NAME = /^[a-z][a-z0-9-]*$/;

/** Registers (or replaces) a backend under its manifest's name. */
export function registerBackend(module: BackendModule): void {
  assertBackendModule(module, 'module');
  modules.set(module.name, module);
}

export function unregisterBackend(name: string): boolean {
  return name !== 'reference' && modules.delete(name);
}

/** Names registered so far (the reference backend is always there). */
export function registeredBackends(): string[] {
  return [...modules.keys()];
}

/** Every name `loadBackend` may know: registered ones and the packages of `KNOWN_BACKENDS`. */
export function knownBackendNames(): string[] {
  return [...new Set([...modules.keys(), ...KNOWN_BACKENDS.map((k) => k.name)])];
}

/** Imports a module specifier from the caller's own location, so its dependencies resolve. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

/** Checks the shape of a manifest; throws `BACKEND_UNAVAILABLE` naming `argument`. */
export function assertBackendModule(value: unknown, argument: string): asserts value is BackendModule {
  const m = value as Partial<BackendModule> | null;
  const traits = m?.traits as Partial<BackendTraits> | undefined;
  const problem =
    typeof value !== 'object' || value === null
      ? 'not an object'
      : typeof m!.name !== 'string' || !NAME.test(m!.name)
        ? 'name is not a lower-case name such as "js"'
        : typeof m!.packageName !== 'string'
          ? 'packageName is missing'
          : typeof m!.createBackend !== 'function'
            ? 'createBackend is not a function'
            : typeof traits !== 'object' || traits === null
              ? 'traits is missing'
              : !['host', 'device'].includes(traits.residence as string)
                ? 'traits.residence is not "host" or "device"'
                : !['float64', 'float32', 'float32-gpu'].includes(traits.tolerance as string)
                  ? 'traits.tolerance is not a known profile'
                  : !Array.isArray(traits.requires) || !Array.isArray(traits.environments)
                    ? 'traits.requires or traits.environments is not an array'
                    : undefined;
  if (problem !== undefined) {
    throw new BatchNormError({
      code: 'BACKEND_UNAVAILABLE',
      argument,
      expected: 'a BackendModule manifest { name, packageName, description, createBackend, traits }',
      received: `${describeValue(value)} (${problem})`,
    });
  }
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(specifier)
  );
}

/**
 * The manifest of the backend named `name`: a registered one, or one of `KNOWN_BACKENDS`
 * imported through `importModule` (then registered). Pass `(s) => import(s)` from your own
 * module so the package resolves from your dependencies, not from core's.
 *
 * @throws BatchNormError `UNKNOWN_BACKEND` for a name nobody registered, `BACKEND_NOT_INSTALLED`
 * naming the package to install when its package is missing, `BACKEND_UNAVAILABLE` when the
 * package exports no valid `backendModule`.
 */
export async function loadBackendModule(name: string, importModule?: ModuleImporter): Promise<BackendModule> {
  const registered = modules.get(name);
  if (registered !== undefined) return registered;
  const packageName = KNOWN_BACKENDS.find((k) => k.name === name)?.packageName;
  if (packageName === undefined || importModule === undefined) {
    const known = knownBackendNames();
    throw new BatchNormError({
      code: packageName === undefined ? 'UNKNOWN_BACKEND' : 'BACKEND_NOT_INSTALLED',
      argument: 'backend',
      expected: `one of ${known.map((k) => `"${k}"`).join(', ')}`,
      received: describeValue(name),
      ...(packageName === undefined
        ? {}
        : { hint: `Pass an importModule, or import ${packageName} and registerBackend(backendModule).` }),
    });
  }
  let namespace: unknown;
  try {
    namespace = await importModule(packageName);
  } catch (error) {
    if (isModuleNotFound(error, packageName)) {
      throw new BatchNormError(
        {
          code: 'BACKEND_NOT_INSTALLED',
          argument: 'backend',
          expected: `the package ${packageName} to be installed for backend "${name}"`,
          received: 'no such package',
          hint: `Install it: npm install ${packageName}`,
        },
        { cause: error },
      );
    }
    throw error;
  }
  const module = (namespace as { backendModule?: unknown } | null)?.backendModule;
  assertBackendModule(module, `${packageName}'s backendModule`);
  if (module.name !== name) {
    throw new BatchNormError({
      code: 'BACKEND_UNAVAILABLE',
      argument: `${packageName}'s backendModule.name`,
      expected: `"${name}"`,
      received: describeValue(module.name),
    });
  }
  modules.set(name, module);
  return module;
}

/**
 * Creates the backend named `name` (see `loadBackendModule`), and checks it implements this
 * version of the contract.
 */
export async function loadBackend(
  name: string,
  options: BackendOptions = {},
  importModule?: ModuleImporter,
): Promise<Backend> {
  const module = await loadBackendModule(name, importModule);
  const backend = await module.createBackend(options);
  // isTensor joined v2 before its release: a backend written against an earlier draft lacks it
  if (backend.specificationVersion !== SPECIFICATION_VERSION || typeof backend.isTensor !== 'function') {
    backend.destroy();
    throw new BatchNormError({
      code: 'BACKEND_UNAVAILABLE',
      argument: 'backend',
      expected: `a backend of contract ${SPECIFICATION_VERSION} (this @batchnorm/core), with isTensor`,
      received: `"${name}" of contract ${describeValue(backend.specificationVersion)}${typeof backend.isTensor === 'function' ? '' : ', without isTensor'}`,
      hint: `Install versions of ${module.packageName} and @batchnorm/core that agree.`,
    });
  }
  return backend;
}

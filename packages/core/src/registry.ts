import type { Backend } from './backend.js';
import { BatchNormError, describeValue } from './errors.js';
import { createReferenceBackend } from './reference/index.js';

/** Options a backend factory accepts; each backend documents its own keys (e.g. `mode`). */
export type BackendOptions = Readonly<Record<string, unknown>>;

export type BackendFactory = (options?: BackendOptions) => Backend | Promise<Backend>;

/**
 * What a backend package exports: `export const backendModule = { name, createBackend }`
 * (plus its own named exports). The registry loads packages by this shape.
 */
export interface BackendModule {
  readonly backendName: string;
  readonly createBackend: BackendFactory;
}

/** The backends we publish, by registry name, and the package that provides each. */
export const KNOWN_BACKEND_PACKAGES: Readonly<Record<string, string>> = {
  js: '@batchnorm/backend-js',
  gpujs: '@batchnorm/backend-gpujs',
  'tfjs-node': '@batchnorm/backend-tfjs-node',
};

const factories = new Map<string, BackendFactory>([['reference', createReferenceBackend]]);

/** Registers (or replaces) a backend factory under `name`. */
export function registerBackend(name: string, factory: BackendFactory): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'name',
      expected: 'a lower-case name such as "js" or "tfjs-node"',
      received: describeValue(name),
    });
  }
  factories.set(name, factory);
}

export function unregisterBackend(name: string): boolean {
  return factories.delete(name);
}

/** Names registered so far (the reference backend is always there). */
export function registeredBackends(): string[] {
  return [...factories.keys()];
}

/** Imports a module specifier from the caller's own location, so its dependencies resolve. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

function isBackendModule(value: unknown): value is BackendModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BackendModule).createBackend === 'function' &&
    typeof (value as BackendModule).backendName === 'string'
  );
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
 * Creates the backend registered as `name`, importing its package first when it is one of ours
 * and not yet registered. Pass `importModule: (s) => import(s)` from your own module so the
 * package resolves from your dependencies, not from core's.
 *
 * @throws BatchNormError `UNKNOWN_BACKEND` for a name nobody registered, `BACKEND_NOT_INSTALLED`
 * naming the package to install when its package is missing.
 */
export async function loadBackend(
  name: string,
  options: BackendOptions = {},
  importModule?: ModuleImporter,
): Promise<Backend> {
  let factory = factories.get(name);
  // own keys only: 'constructor' or 'toString' must not find Object.prototype's members
  const packageName = Object.hasOwn(KNOWN_BACKEND_PACKAGES, name) ? KNOWN_BACKEND_PACKAGES[name] : undefined;
  if (factory === undefined && packageName !== undefined && importModule !== undefined) {
    let module: unknown;
    try {
      module = await importModule(packageName);
    } catch (error) {
      if (isModuleNotFound(error, packageName)) {
        throw new BatchNormError(
          {
            code: 'BACKEND_NOT_INSTALLED',
            argument: 'backend',
            expected: `the package ${packageName} to be installed for backend "${name}"`,
            received: 'no such package',
            hint: `Install it: pnpm add ${packageName}`,
          },
          { cause: error },
        );
      }
      throw error;
    }
    if (!isBackendModule(module)) {
      throw new BatchNormError({
        code: 'BACKEND_UNAVAILABLE',
        argument: 'backend',
        expected: `${packageName} to export backendName and createBackend`,
        received: describeValue(module),
      });
    }
    registerBackend(name, module.createBackend);
    factory = module.createBackend;
  }
  if (factory === undefined) {
    const known = [...new Set([...factories.keys(), ...Object.keys(KNOWN_BACKEND_PACKAGES)])];
    throw new BatchNormError({
      code: packageName === undefined ? 'UNKNOWN_BACKEND' : 'BACKEND_NOT_INSTALLED',
      argument: 'backend',
      expected: `one of ${known.map((k) => `"${k}"`).join(', ')}`,
      received: describeValue(name),
      ...(packageName === undefined ? {} : { hint: `Install ${packageName} and import it.` }),
    });
  }
  return factory(options);
}

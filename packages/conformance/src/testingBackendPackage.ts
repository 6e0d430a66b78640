import {
  KNOWN_BACKENDS,
  loadBackend,
  SPECIFICATION_VERSION,
  type Backend,
  type BackendOptions,
  type BackendTraits,
  type KnownBackend,
  type ModuleImporter,
} from '@batchnorm/core';

/** What a backend package's `backendModule` must state. */
export interface BackendPackageExpectation {
  readonly name: string;
  readonly packageName: string;
  readonly traits: BackendTraits;
  /**
   * Whether core's `KNOWN_BACKENDS` lists it (this project's backends); default `true`. A package
   * listed there must agree with its entry either way.
   */
  readonly listed?: boolean;
}

/** How `checkBackendPackage` loads the backend through core's registry. */
export interface BackendPackageLoad {
  /** `(specifier) => import(specifier)` from the test file, so the package resolves by its name. */
  readonly importModule: ModuleImporter;
  /** Options for a backend that starts anywhere the tests run (gpujs: `{ mode: 'cpu' }`). */
  readonly options?: BackendOptions;
}

/** Thrown by `checkBackendPackage`: what the package's exports got wrong. */
export class BackendPackageError extends Error {
  override readonly name = 'BackendPackageError';
}

/** Where two JSON-like values first differ (`traits.requires[0]: …`), or `undefined` when they agree. */
function firstDifference(path: string, got: unknown, want: unknown): string | undefined {
  if (typeof want !== 'object' || want === null || typeof got !== 'object' || got === null) {
    return Object.is(got, want) ? undefined : `${path}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  }
  if (Array.isArray(want) !== Array.isArray(got)) return `${path}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
  for (const key of keys) {
    const difference = firstDifference(
      Array.isArray(want) ? `${path}[${key}]` : `${path}.${key}`,
      (got as Record<string, unknown>)[key],
      (want as Record<string, unknown>)[key],
    );
    if (difference !== undefined) return difference;
  }
  return undefined;
}

/**
 * Checks a backend package's exports (`api`: `import * as api from './index.js'`) as core's
 * registry and the tools use them: `backendModule` states `expected`'s name, package and traits
 * and a description, its `createBackend` is the package's own, it agrees with its entry in core's
 * `KNOWN_BACKENDS`, and v1's `backendName` export is gone. Then loads the backend by name with
 * `loadBackend` and returns it, of this contract version, for the caller to check its own details
 * and to `destroy`.
 *
 * @throws BackendPackageError naming the first thing that differs.
 */
export async function checkBackendPackage(
  api: Readonly<Record<string, unknown>>,
  expected: BackendPackageExpectation,
  load: BackendPackageLoad,
): Promise<Backend> {
  function fail(problem: string): never {
    throw new BackendPackageError(`${expected.packageName}: ${problem}`);
  }
  const module = api['backendModule'] as Readonly<Record<string, unknown>> | null | undefined;
  if (typeof module !== 'object' || module === null) fail('exports no backendModule');
  const manifest = { name: module['name'], packageName: module['packageName'], traits: module['traits'] };
  const difference = firstDifference('backendModule', manifest, {
    name: expected.name,
    packageName: expected.packageName,
    traits: expected.traits,
  });
  if (difference !== undefined) fail(difference);
  if (typeof module['description'] !== 'string' || module['description'] === '') fail('backendModule.description is empty');
  if (module['createBackend'] !== api['createBackend']) fail("backendModule.createBackend is not the package's createBackend export");
  if ('backendName' in api) fail("exports v1's backendName: the manifest replaces it");

  const known: readonly KnownBackend[] = KNOWN_BACKENDS;
  const entry = known.find((k) => k.name === expected.name || k.packageName === expected.packageName);
  if (entry === undefined && (expected.listed ?? true)) fail(`core's KNOWN_BACKENDS does not list "${expected.name}"`);
  if (entry !== undefined) {
    const entryDifference = firstDifference('KNOWN_BACKENDS entry', entry, { name: expected.name, packageName: expected.packageName });
    if (entryDifference !== undefined) fail(entryDifference);
  }

  const backend = await loadBackend(expected.name, load.options ?? {}, load.importModule);
  if (backend.name !== expected.name || backend.specificationVersion !== SPECIFICATION_VERSION) {
    backend.destroy();
    fail(`loadBackend("${expected.name}") made "${backend.name}" of contract ${String(backend.specificationVersion)}`);
  }
  return backend;
}

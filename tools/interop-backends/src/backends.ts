import { knownBackendNames, loadBackend, loadBackendModule, type Backend, type ModuleImporter } from '@batchnorm/core';
import { profileFor, type ToleranceProfile } from '@batchnorm/conformance';

/**
 * Imports a backend package from this tool's location. It lists no backend package: in the
 * workspace the root package.json depends on every package of core's `KNOWN_BACKENDS` (kept in
 * step by scripts/sync-backends.mjs), so Node's lookup finds them in the root node_modules, as
 * tools/bench does.
 */
const importBackendPackage: ModuleImporter = (specifier) => import(specifier);

/** A backend created, with the tolerance profile its manifest names (`traits.tolerance`). */
export interface LoadedBackend {
  readonly name: string;
  readonly backend: Backend;
  readonly profile: ToleranceProfile;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split('\n')[0]!;
}

/**
 * The backend this process tests: `BATCHNORM_INTEROP_BACKEND`, set per vitest project (see
 * vitest.config.ts: one project, so one process, per name of `knownBackendNames()`).
 */
export function backendUnderTest(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const name = env['BATCHNORM_INTEROP_BACKEND'];
  const known = knownBackendNames();
  if (name === undefined || !known.includes(name)) {
    throw new Error(
      `BATCHNORM_INTEROP_BACKEND must name one of ${known.join(', ')} (received ${name === undefined ? 'nothing' : JSON.stringify(name)}): ` +
        'run the tests through this package\'s vitest.config.ts, which sets it per project',
    );
  }
  return name;
}

/**
 * Creates backend `name` from its package's manifest. A backend that fails to import or start
 * throws, naming what its manifest requires (a display: run under `xvfb-run -a`): every backend
 * of the list must pass here, none is skipped.
 */
export async function loadBackendUnderTest(name: string): Promise<LoadedBackend> {
  const module = await loadBackendModule(name, importBackendPackage).catch((error: unknown) => {
    throw new Error(`backend ${name}: cannot import its package: ${firstLine(error)}`, { cause: error });
  });
  try {
    const backend = await loadBackend(name, {}, importBackendPackage);
    return { name, backend, profile: profileFor(module.traits.tolerance) };
  } catch (error) {
    const { requires } = module.traits;
    const needs = requires.length === 0 ? '' : ` (it requires: ${requires.join(', ')}${requires.includes('display') ? '; run under xvfb-run -a' : ''})`;
    throw new Error(`backend ${name}: ${module.packageName} failed to start: ${firstLine(error)}${needs}`, { cause: error });
  }
}

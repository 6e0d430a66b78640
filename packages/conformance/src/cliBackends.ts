import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  KNOWN_BACKENDS,
  knownBackendNames,
  referenceBackendModule,
  type BackendModule,
  type BackendRequirement,
} from '@batchnorm/core';

/**
 * What the CLI knows about backends, all derived from core: the reference (built in) and the one
 * list `KNOWN_BACKENDS`; traits come from each loaded manifest. No backend is named here.
 */

/** The names `--backend` accepts (besides `all`): the reference, then `KNOWN_BACKENDS` in order. */
export function cliBackendNames(): string[] {
  return knownBackendNames();
}

/** The npm package that provides backend `name` (core for the reference). */
export function packageOf(name: string): string {
  if (name === referenceBackendModule.name) return referenceBackendModule.packageName;
  const known = KNOWN_BACKENDS.find((k) => k.name === name);
  if (known === undefined) throw new Error(`unknown backend "${name}"`);
  return known.packageName;
}

/** Where a package's ES entry lives, from its package.json `exports` (or `main`). */
function entryOf(packageJsonPath: string): string {
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { exports?: unknown; main?: string };
  const dir = path.dirname(packageJsonPath);
  let target: unknown = manifest.exports;
  if (typeof target === 'object' && target !== null && '.' in target) target = (target as Record<string, unknown>)['.'];
  while (typeof target === 'object' && target !== null) {
    const conditions = target as Record<string, unknown>;
    target = conditions['import'] ?? conditions['node'] ?? conditions['default'];
  }
  return path.join(dir, typeof target === 'string' ? target : (manifest.main ?? 'index.js'));
}

/**
 * The package.json of `specifier` as the user's project sees it (from `cwd`), else as this CLI
 * sees it; undefined when it is installed in neither. Looked up along Node's own `node_modules`
 * search path rather than resolved, so a package whose `exports` hides its package.json is found.
 */
export function resolvePackageJson(specifier: string, cwd = process.cwd()): string | undefined {
  for (const base of [path.join(cwd, 'package.json'), fileURLToPath(import.meta.url)]) {
    for (const dir of nodeModulesChain(path.dirname(base))) {
      const manifest = path.join(dir, specifier, 'package.json');
      if (existsSync(manifest)) return manifest;
    }
  }
  return undefined;
}

/**
 * `node_modules` in `dir` and every directory above it: where `import()` looks. Not
 * `require.resolve.paths`, which adds NODE_PATH and ~/.node_modules (CommonJS-only, and task
 * runners set NODE_PATH to their own store, which a user's `npx` does not see).
 */
function nodeModulesChain(dir: string): string[] {
  const chain: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    if (path.basename(current) !== 'node_modules') chain.push(path.join(current, 'node_modules'));
    if (path.dirname(current) === current) return chain;
  }
}

function notFound(specifier: string): Error {
  const error = new Error(`Cannot find package '${specifier}'`);
  (error as NodeJS.ErrnoException).code = 'ERR_MODULE_NOT_FOUND';
  return error;
}

/**
 * The importer handed to core's `loadBackendModule`: a plain `(s) => import(s)` would resolve
 * from this package, which does not (and must not) depend on any backend; `pnpm conformance`
 * finds the backends installed where it runs, so resolve from the working directory first.
 */
export async function importBackendPackage(specifier: string): Promise<unknown> {
  const manifestPath = resolvePackageJson(specifier);
  if (manifestPath === undefined) throw notFound(specifier);
  return import(pathToFileURL(entryOf(manifestPath)).href);
}

/** The environment a requirement is checked against (a parameter, so tests can vary it). */
export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  readonly hasWebGpu: boolean;
}

export function currentEnvironment(): Environment {
  const navigator = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return { env: process.env, platform: process.platform, hasWebGpu: navigator?.gpu !== undefined };
}

/** A requirement of a backend's manifest that this environment visibly lacks, and the fix. */
export interface RequirementProblem {
  readonly requirement: BackendRequirement;
  readonly message: string;
}

/**
 * What the environment lacks for `module` (its `traits.requires`), each with how to fix it.
 * `command` is the command line to suggest: by default the CLI's bin through npx, which a user
 * who installed the package can type whatever installed it (and which works in this repository).
 */
export function requirementProblems(
  module: Pick<BackendModule, 'name' | 'packageName' | 'traits'>,
  environment: Environment,
  command = `npx batchnorm-conformance --backend ${module.name}`,
): RequirementProblem[] {
  const problems: RequirementProblem[] = [];
  for (const requirement of module.traits.requires) {
    switch (requirement) {
      case 'display': {
        // X11 platforms only; macOS and Windows always have a display for GL
        const x11 = environment.platform !== 'darwin' && environment.platform !== 'win32';
        if (x11 && (environment.env['DISPLAY'] ?? '') === '') {
          problems.push({
            requirement,
            message:
              `backend ${module.name} needs a display (traits.requires: display) and DISPLAY is not set, ` +
              `so it cannot use the GPU here and may fail or fall back to a slower mode. ` +
              `Run it under a virtual X display: xvfb-run -a ${command} (Debian: apt-get install xvfb xauth)`,
          });
        }
        break;
      }
      case 'webgpu-adapter':
        // a backend may bring its own adapter (Dawn in Node), so a missing navigator.gpu says
        // nothing up front: see failureHint
        break;
      case 'native-binding':
        // cannot be checked without loading it: see failureHint
        break;
    }
  }
  return problems;
}

/** A hint to add when a backend failed to start, from what its manifest says it needs. */
export function failureHint(
  module: Pick<BackendModule, 'name' | 'packageName' | 'traits'>,
  environment: Environment,
  command?: string,
): string {
  const hints = requirementProblems(module, environment, command).map((p) => p.message);
  if (module.traits.requires.includes('webgpu-adapter') && !environment.hasWebGpu) {
    hints.push(
      `backend ${module.name} needs a WebGPU adapter (traits.requires: webgpu-adapter) and this runtime has ` +
        `no navigator.gpu: it must bring its own (see ${module.packageName}'s README for what it needs), ` +
        `or run its suite in a browser`,
    );
  }
  if (module.traits.requires.includes('native-binding')) {
    hints.push(
      `backend ${module.name} loads a native binding (traits.requires: native-binding) that ` +
        `${module.packageName}'s setup builds: check that it was built (see its README)`,
    );
  }
  return hints.join('\n');
}

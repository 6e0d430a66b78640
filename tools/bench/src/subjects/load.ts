import { createRequire } from 'node:module';
import {
  KNOWN_BACKENDS,
  createReferenceBackend,
  loadBackend,
  loadBackendModule,
  referenceBackendModule,
  type Backend,
  type ModuleImporter,
} from '@batchnorm/core';
import { TFJS_ANCHOR_NAMES, firstLine, type TfjsEngine } from '../names.js';
import type { KernelSubject } from './subject.js';

// TensorFlow.js is imported only when something needs it (dynamic imports below).

export type Loaded<S> = { readonly subject: S } | { readonly skipped: string };

/**
 * Imports a backend package from the bench's location. The bench lists no backend package: in
 * the workspace the root package.json depends on every package of `KNOWN_BACKENDS` (kept in
 * step by scripts/sync-backends.mjs), so Node's lookup finds it in the root node_modules.
 */
const importBackendPackage: ModuleImporter = (specifier) => import(specifier);

const require = createRequire(import.meta.url);

/**
 * Whether `packageName` runs on tfjs-node, whose tfjs engine is global state the anchors share:
 * it says so with a peer dependency on `@tensorflow/tfjs-node`.
 */
function runsOnTfjsNode(packageName: string): boolean {
  const manifest = require(`${packageName}/package.json`) as { peerDependencies?: Record<string, string> };
  return manifest.peerDependencies?.['@tensorflow/tfjs-node'] !== undefined;
}

/** One of our backends, and what to restore before each of its cases. */
export interface LoadedBackend {
  readonly backend: Backend;
  /** Where its tensors live (its manifest's trait): a host backend's kernels finish inside the call. */
  readonly residence: 'host' | 'device';
  /** Makes TensorFlow's engine the active tfjs backend again (backends on tfjs-node). */
  readonly restore?: () => Promise<void>;
}

/** Loads one of our backends by registry name; a missing package or engine becomes a skip. */
export async function loadOurBackend(name: string): Promise<Loaded<LoadedBackend>> {
  if (name === referenceBackendModule.name) return { subject: { backend: createReferenceBackend(), residence: referenceBackendModule.traits.residence } };
  try {
    const module = await loadBackendModule(name, importBackendPackage);
    let restore: (() => Promise<void>) | undefined;
    if (runsOnTfjsNode(module.packageName)) {
      const { activateTfjs } = await import('../tfjs.js');
      const reason = await activateTfjs('tensorflow');
      if (reason !== undefined) return { skipped: reason };
      restore = async () => void (await activateTfjs('tensorflow'));
    }
    try {
      const backend = await loadBackend(name, {}, importBackendPackage);
      return { subject: { backend, residence: module.traits.residence, ...(restore === undefined ? {} : { restore }) } };
    } catch (error) {
      // What the manifest says the environment must provide is the likely cause.
      const { requires } = module.traits;
      const needs = requires.length === 0 ? '' : ` (it requires: ${requires.join(', ')})`;
      return { skipped: `${module.packageName} unavailable: ${firstLine(error)}${needs}` };
    }
  } catch (error) {
    const pkg = KNOWN_BACKENDS.find((k) => k.name === name)?.packageName ?? name;
    return { skipped: `${pkg} unavailable: ${firstLine(error)}` };
  }
}

export async function loadAnchor(engine: TfjsEngine): Promise<Loaded<KernelSubject>> {
  try {
    const { tfjsComposedSubject } = await import('./tfjsComposedSubject.js');
    const subject = await tfjsComposedSubject(engine);
    return typeof subject === 'string' ? { skipped: subject } : { subject };
  } catch (error) {
    return { skipped: `${TFJS_ANCHOR_NAMES[engine]} unavailable: ${firstLine(error)}` };
  }
}

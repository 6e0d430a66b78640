import { KNOWN_BACKEND_PACKAGES, createReferenceBackend, loadBackend, type Backend } from '@batchnorm/core';
import { activateTfjs, firstLine, type TfjsEngine } from '../tfjs.js';
import type { KernelSubject } from './subject.js';
import { TFJS_ANCHOR_NAMES, tfjsComposedSubject } from './tfjsComposedSubject.js';

/** Our backends in report order; `reference` is timed on small shapes only. */
export const OUR_BACKENDS = ['js', 'tfjs-node', 'gpujs', 'reference'] as const;
export const ANCHOR_ENGINES: readonly TfjsEngine[] = ['tensorflow', 'wasm', 'cpu'];

export type Loaded<S> = { readonly subject: S } | { readonly skipped: string };

/** Loads one of our backends by registry name; a missing package or engine becomes a skip. */
export async function loadOurBackend(name: string): Promise<Loaded<Backend>> {
  if (name === 'reference') return { subject: createReferenceBackend() };
  try {
    if (name === 'tfjs-node') {
      const reason = await activateTfjs('tensorflow');
      if (reason !== undefined) return { skipped: reason };
    }
    const backend = await loadBackend(name, {}, (specifier) => import(specifier));
    return { subject: backend };
  } catch (error) {
    const pkg = KNOWN_BACKEND_PACKAGES[name] ?? name;
    return { skipped: `${pkg} unavailable: ${firstLine(error)}` };
  }
}

export async function loadAnchor(engine: TfjsEngine): Promise<Loaded<KernelSubject>> {
  try {
    const subject = await tfjsComposedSubject(engine);
    return typeof subject === 'string' ? { skipped: subject } : { subject };
  } catch (error) {
    return { skipped: `${TFJS_ANCHOR_NAMES[engine]} unavailable: ${firstLine(error)}` };
  }
}

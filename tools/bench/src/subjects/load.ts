import { KNOWN_BACKEND_PACKAGES, createReferenceBackend, loadBackend, type Backend } from '@batchnorm/core';
import { TFJS_ANCHOR_NAMES, firstLine, type TfjsEngine } from '../names.js';
import type { KernelSubject } from './subject.js';

// TensorFlow.js is imported only when something needs it (dynamic imports below).

export type Loaded<S> = { readonly subject: S } | { readonly skipped: string };

/** Loads one of our backends by registry name; a missing package or engine becomes a skip. */
export async function loadOurBackend(name: string): Promise<Loaded<Backend>> {
  if (name === 'reference') return { subject: createReferenceBackend() };
  try {
    if (name === 'tfjs-node') {
      const { activateTfjs } = await import('../tfjs.js');
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
    const { tfjsComposedSubject } = await import('./tfjsComposedSubject.js');
    const subject = await tfjsComposedSubject(engine);
    return typeof subject === 'string' ? { skipped: subject } : { subject };
  } catch (error) {
    return { skipped: `${TFJS_ANCHOR_NAMES[engine]} unavailable: ${firstLine(error)}` };
  }
}

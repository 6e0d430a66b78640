import type { SyncBackend } from '@batchnorm/core';
import { checkBackendPackage } from '@batchnorm/conformance/testing';
import { describe, expect, it } from 'vitest';
import { backendModule, type TfjsNodeTensor, type TfjsSaved } from './index.js';
import * as api from './index.js';

describe('backendModule (tfjs-node)', () => {
  it('states its traits and loads by name through core’s registry, a v2 backend with readSync', async () => {
    const backend = await checkBackendPackage(
      api,
      {
        name: 'tfjs-node',
        packageName: '@batchnorm/backend-tfjs-node',
        traits: { residence: 'device', tolerance: 'float32', requires: ['native-binding'], environments: ['node'] },
      },
      { importModule: (specifier) => import(specifier) },
    );
    expect(backend.details['device']).toBe('cpu');
    expect(typeof backend.readSync).toBe('function');
    expect(typeof backend.disposeSaved).toBe('function');
    // its type says so too: a SyncBackend, so a layer over it has stateSync()
    const typed: SyncBackend<TfjsNodeTensor, TfjsSaved> = backendModule.createBackend();
    expect(typed.name).toBe('tfjs-node');
  });
});

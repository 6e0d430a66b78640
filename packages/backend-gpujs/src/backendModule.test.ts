import type { SyncBackend } from '@batchnorm/core';
import { checkBackendPackage } from '@batchnorm/conformance/testing';
import { describe, expect, it } from 'vitest';
import { backendModule, type GpujsSaved, type GpuTensor } from './index.js';
import * as api from './index.js';

describe('backendModule (gpujs)', () => {
  it('states its traits and loads by name through core’s registry, a v2 backend with readSync', async () => {
    const backend = await checkBackendPackage(
      api,
      {
        name: 'gpujs',
        packageName: '@batchnorm/backend-gpujs',
        traits: { residence: 'device', tolerance: 'float32-gpu', requires: ['display'], environments: ['node', 'browser'] },
      },
      { options: { mode: 'cpu' }, importModule: (specifier) => import(specifier) },
    );
    expect(backendModule.description).toContain('display');
    expect(backend.details['mode']).toBe('cpu');
    expect(typeof backend.readSync).toBe('function');
    backend.destroy();
    // its type says so too: a SyncBackend, so a layer over it has stateSync()
    const typed: SyncBackend<GpuTensor, GpujsSaved> = backendModule.createBackend({ mode: 'cpu' });
    typed.destroy();
  });
});

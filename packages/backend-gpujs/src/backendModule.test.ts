import {
  KNOWN_BACKENDS,
  loadBackend,
  SPECIFICATION_VERSION,
  type SyncBackend,
} from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { backendModule, createBackend, type GpujsSaved, type GpuTensor } from './index.js';
import * as api from './index.js';

describe('backendModule (gpujs)', () => {
  it('agrees with its entry in core’s KNOWN_BACKENDS and states its traits', () => {
    expect(KNOWN_BACKENDS).toContainEqual({ name: backendModule.name, packageName: backendModule.packageName });
    expect(backendModule).toMatchObject({
      name: 'gpujs',
      packageName: '@batchnorm/backend-gpujs',
      traits: { residence: 'device', tolerance: 'float32-gpu', requires: ['display'], environments: ['node', 'browser'] },
    });
    expect(backendModule.description).toContain('display');
    expect(backendModule.createBackend).toBe(createBackend);
    expect('backendName' in api).toBe(false);
  });

  it('creates a v2 backend that declares readSync (its type is a SyncBackend)', () => {
    const backend: SyncBackend<GpuTensor, GpujsSaved> = backendModule.createBackend({ mode: 'cpu' });
    expect(backend.specificationVersion).toBe(SPECIFICATION_VERSION);
    expect(typeof backend.readSync).toBe('function');
    expect(typeof backend.disposeSaved).toBe('function');
    backend.destroy();
  });

  it('is what loadBackend finds by name', async () => {
    const backend = await loadBackend('gpujs', { mode: 'cpu' }, (specifier) => import(specifier));
    expect(backend.name).toBe('gpujs');
    expect(backend.details['mode']).toBe('cpu');
    backend.destroy();
  });
});

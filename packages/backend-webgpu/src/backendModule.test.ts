import {
  KNOWN_BACKENDS,
  loadBackend,
  registerBackend,
  SPECIFICATION_VERSION,
  unregisterBackend,
  type KnownBackend,
} from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';
import { backendModule, createBackend, type WebGpuBackend } from './index.js';

describe('backendModule (webgpu)', () => {
  it('states its name, package and traits', () => {
    expect(backendModule).toMatchObject({
      name: 'webgpu',
      packageName: '@batchnorm/backend-webgpu',
      traits: { residence: 'device', tolerance: 'float32', requires: ['webgpu-adapter'], environments: ['node', 'browser'] },
    });
    expect(backendModule.createBackend).toBe(createBackend);
    expect(Object.keys(api).sort()).toEqual(['backendModule', 'createBackend']);
  });

  it('agrees with its entry in core’s KNOWN_BACKENDS, when listed there', () => {
    // the lead lists it once conformance, the MNIST app and the bench run it; until then, registerBackend
    const known: readonly KnownBackend[] = KNOWN_BACKENDS;
    const entry = known.find((k) => k.name === backendModule.name);
    if (entry !== undefined) expect(entry).toEqual({ name: backendModule.name, packageName: backendModule.packageName });
  });

  it('creates a v2 backend that reads asynchronously only', async () => {
    const backend: WebGpuBackend = await backendModule.createBackend();
    try {
      expect(backend.specificationVersion).toBe(SPECIFICATION_VERSION);
      expect(backend.readSync).toBeUndefined();
      expect(typeof backend.disposeSaved).toBe('function');
    } finally {
      backend.destroy();
    }
  });

  it('is what loadBackend finds by name once registered', async () => {
    registerBackend(backendModule);
    try {
      const backend = await loadBackend('webgpu', { subgroups: false });
      expect(backend.name).toBe('webgpu');
      expect(backend.details['subgroups']).toBe('off (option subgroups: false)');
      backend.destroy();
    } finally {
      unregisterBackend('webgpu');
    }
  });
});

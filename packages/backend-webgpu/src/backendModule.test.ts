import { checkBackendPackage } from '@batchnorm/conformance/testing';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('backendModule (webgpu)', () => {
  it('exports only the manifest and the factory', () => {
    expect(Object.keys(api).sort()).toEqual(['backendModule', 'createBackend']);
  });

  it('states its traits and loads by name through core’s registry, a v2 backend that reads asynchronously only', async () => {
    const backend = await checkBackendPackage(
      api,
      {
        name: 'webgpu',
        packageName: '@batchnorm/backend-webgpu',
        traits: { residence: 'device', tolerance: 'float32', requires: ['webgpu-adapter'], environments: ['node', 'browser'] },
      },
      { options: { subgroups: false }, importModule: (specifier) => import(specifier) },
    );
    try {
      expect(backend.details['subgroups']).toBe('off (option subgroups: false)');
      expect(backend.readSync).toBeUndefined();
      expect(typeof backend.disposeSaved).toBe('function');
    } finally {
      backend.destroy();
    }
  });
});

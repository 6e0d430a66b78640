import { KNOWN_BACKENDS, loadBackend, SPECIFICATION_VERSION, type SyncBackend } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { backendModule, createBackend, type TfjsNodeTensor, type TfjsSaved } from './index.js';
import * as api from './index.js';

describe('backendModule (tfjs-node)', () => {
  it('agrees with its entry in core’s KNOWN_BACKENDS and states its traits', () => {
    expect(KNOWN_BACKENDS).toContainEqual({ name: backendModule.name, packageName: backendModule.packageName });
    expect(backendModule).toMatchObject({
      name: 'tfjs-node',
      packageName: '@batchnorm/backend-tfjs-node',
      traits: { residence: 'device', tolerance: 'float32', requires: ['native-binding'], environments: ['node'] },
    });
    expect(backendModule.createBackend).toBe(createBackend);
    expect('backendName' in api).toBe(false);
  });

  it('creates a v2 backend that declares readSync (its type is a SyncBackend)', () => {
    const backend: SyncBackend<TfjsNodeTensor, TfjsSaved> = backendModule.createBackend();
    expect(backend.specificationVersion).toBe(SPECIFICATION_VERSION);
    expect(typeof backend.readSync).toBe('function');
    expect(typeof backend.disposeSaved).toBe('function');
  });

  it('is what loadBackend finds by name', async () => {
    const backend = await loadBackend('tfjs-node', {}, (specifier) => import(specifier));
    expect(backend.name).toBe('tfjs-node');
    expect(backend.details['device']).toBe('cpu');
  });
});

import { readFileSync } from 'node:fs';
import { KNOWN_BACKENDS, loadBackend, SPECIFICATION_VERSION } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { backendModule, createBackend } from './index.js';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string };

describe('the manifest', () => {
  it('names this package and the backend it creates', () => {
    expect(backendModule.packageName).toBe(manifest.name);
    const backend = createBackend();
    expect(backend.name).toBe(backendModule.name);
    expect(backend.specificationVersion).toBe(SPECIFICATION_VERSION);
    backend.destroy();
  });

  it("is the entry of core's KNOWN_BACKENDS the tools load it by", async () => {
    // Fails until the one list has this backend's entry (docs/adding-a-backend.md).
    expect(KNOWN_BACKENDS).toContainEqual({ name: backendModule.name, packageName: backendModule.packageName });
    // core's registry maps the name to the package through the list; the package is this one
    const importer = (specifier: string) =>
      specifier === backendModule.packageName ? import('./index.js') : Promise.reject(new Error(`imported ${specifier}`));
    const backend = await loadBackend(backendModule.name, {}, importer);
    expect(backend.name).toBe(backendModule.name);
    backend.destroy();
  });
});

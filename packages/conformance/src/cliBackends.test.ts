import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_BACKENDS, referenceBackendModule, type BackendModule } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { cliBackendNames, failureHint, packageOf, requirementProblems, type Environment } from './cliBackends.js';

const linuxWithoutDisplay: Environment = { env: {}, platform: 'linux', hasWebGpu: false };

function manifest(requires: BackendModule['traits']['requires']): Pick<BackendModule, 'name' | 'packageName' | 'traits'> {
  return {
    name: 'foo',
    packageName: '@example/backend-foo',
    traits: { residence: 'device', tolerance: 'float32-gpu', requires, environments: ['node'] },
  };
}

describe('the CLI\'s backends come from core\'s one list', () => {
  it('are the reference, then KNOWN_BACKENDS in its order', () => {
    expect(cliBackendNames()).toEqual([referenceBackendModule.name, ...KNOWN_BACKENDS.map((k) => k.name)]);
  });

  it('with their packages from the same list', () => {
    for (const { name, packageName } of KNOWN_BACKENDS) expect(packageOf(name)).toBe(packageName);
    expect(packageOf('reference')).toBe('@batchnorm/core');
    expect(() => packageOf('nosuch')).toThrow(/unknown backend "nosuch"/);
  });

  it('and no source file of this package names a backend or a backend package', () => {
    const src = path.dirname(fileURLToPath(import.meta.url));
    const sources = readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources).toContain('cli.ts');
    for (const file of sources) {
      const text = readFileSync(path.join(src, file), 'utf8');
      for (const { name, packageName } of KNOWN_BACKENDS) {
        for (const literal of [`'${name}'`, `"${name}"`, packageName]) {
          expect(text.includes(literal), `${file} names ${literal}`).toBe(false);
        }
      }
    }
  });
});

describe('requirementProblems', () => {
  it('says clearly that a display is missing, and how to fix it (xvfb-run -a)', () => {
    const [problem, ...rest] = requirementProblems(manifest(['display']), linuxWithoutDisplay);
    expect(rest).toEqual([]);
    expect(problem!.requirement).toBe('display');
    expect(problem!.message).toContain('backend foo needs a display');
    expect(problem!.message).toContain('DISPLAY is not set');
    // the command a user who installed the package can type, whatever installed it (the repository's root has the bin too)
    expect(problem!.message).toContain('xvfb-run -a npx batchnorm-conformance --backend foo');
  });

  it('has nothing to say when DISPLAY is set, or on a platform that always has one', () => {
    expect(requirementProblems(manifest(['display']), { ...linuxWithoutDisplay, env: { DISPLAY: ':99' } })).toEqual([]);
    expect(requirementProblems(manifest(['display']), { ...linuxWithoutDisplay, platform: 'darwin' })).toEqual([]);
    expect(requirementProblems(manifest([]), linuxWithoutDisplay)).toEqual([]);
  });

  it('WebGPU: no note up front (a backend may bring its own adapter); a hint when it fails to start', () => {
    expect(requirementProblems(manifest(['webgpu-adapter']), linuxWithoutDisplay)).toEqual([]);
    expect(failureHint(manifest(['webgpu-adapter']), linuxWithoutDisplay)).toMatch(/needs a WebGPU adapter .* no navigator\.gpu/);
    expect(failureHint(manifest(['webgpu-adapter']), { ...linuxWithoutDisplay, hasWebGpu: true })).toBe('');
  });

  it('adds the native binding to the hint of a backend that failed to start', () => {
    expect(requirementProblems(manifest(['native-binding']), linuxWithoutDisplay)).toEqual([]);
    const hint = failureHint(manifest(['native-binding', 'display']), linuxWithoutDisplay);
    expect(hint).toContain('xvfb-run -a');
    expect(hint).toContain("loads a native binding (traits.requires: native-binding) that @example/backend-foo's setup builds");
    expect(failureHint(manifest([]), linuxWithoutDisplay)).toBe('');
  });
});

import { BatchNormError, createReferenceBackend, registerBackend, unregisterBackend, type BackendModule } from '@batchnorm/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendStartError, cheapFiniteCheck, openBackend, requirementsHint } from './backends.js';

/** A manifest whose backend cannot start, needing what `requires` says. */
function failing(name: string, requires: BackendModule['traits']['requires']): BackendModule {
  return {
    name,
    packageName: `@example/${name}`,
    description: 'fails on purpose',
    createBackend: () => {
      throw new Error('no way to start here');
    },
    traits: { residence: 'device', tolerance: 'float32', requires, environments: ['node'] },
  };
}

afterEach(() => {
  for (const name of ['needs-display', 'needs-nothing', 'works']) unregisterBackend(name);
});

describe('backends', () => {
  it('name what a manifest requires when its backend fails to start', async () => {
    registerBackend(failing('needs-display', ['display', 'native-binding']));
    const error = await openBackend('needs-display').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendStartError);
    expect((error as Error).message).toBe(
      'no way to start here (backend "needs-display" needs an X display (headless-gl): run under xvfb-run -a; ' +
        "and its native binding, built by its package's setup (scripts/setup.sh does it here))",
    );
  });

  it('pass the error on as it is when the manifest requires nothing', async () => {
    registerBackend(failing('needs-nothing', []));
    expect(requirementsHint(failing('needs-nothing', []))).toBeUndefined();
    await expect(openBackend('needs-nothing')).rejects.toThrow(/^no way to start here$/);
  });

  it('return the manifest with the backend; an unknown name is a typed error', async () => {
    const { module, backend } = await openBackend('reference');
    expect(module.name).toBe('reference');
    expect(backend.name).toBe('reference');
    backend.destroy();
    await expect(openBackend('nope')).rejects.toBeInstanceOf(BatchNormError);
  });

  it('keep the finite check where tensors live in host memory only', () => {
    const base = { name: 'works', packageName: 'x', description: '', createBackend: createReferenceBackend };
    const traits = { tolerance: 'float64', requires: [], environments: ['node'] } as const;
    expect(cheapFiniteCheck({ ...base, traits: { ...traits, residence: 'host' } })).toBe(true);
    expect(cheapFiniteCheck({ ...base, traits: { ...traits, residence: 'device' } })).toBe(false);
  });
});

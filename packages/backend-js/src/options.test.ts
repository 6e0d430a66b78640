import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BatchNormError, loadBackend, type SyncBackend } from '@batchnorm/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createBackend, type JsBackend, type JsBackendOptions, type JsSaved, type JsTensor } from './index.js';

function caught(run: () => unknown): BatchNormError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BatchNormError);
    return error as BatchNormError;
  }
  throw new Error('expected a BatchNormError, nothing was thrown');
}

describe('js backend options: unknown keys', () => {
  it('refuses { thread: 2 } naming the key, listing the known ones, and suggesting threads', () => {
    // @ts-expect-error -- `thread` is not an option (a typo of `threads`)
    const error = caught(() => createBackend({ thread: 2 }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.argument).toBe('options.thread');
    expect(error.message).toBe(
      'options.thread: expected only the options "threads", "parallelMinElements", "poolBytes", "simd", ' +
        'received unknown option "thread". Did you mean "threads"?',
    );
    expect(error.hint).toBe('Did you mean "threads"?');
  });

  it('refuses a key of another backend ({ mode: "cpu" }, gpujs) and a misspelt one alongside good ones', () => {
    // @ts-expect-error -- `mode` is gpujs's option, not this backend's
    expect(caught(() => createBackend({ mode: 'cpu' })).argument).toBe('options.mode');
    // @ts-expect-error -- `simD` is not an option
    const error = caught(() => createBackend({ threads: 1, simD: false }));
    expect(error.argument).toBe('options.simD');
    expect(error.hint).toBe('Did you mean "simd"?');
    // Options typed loosely reach the run-time check too.
    const loose: Record<string, unknown> = { poolbytes: 0 };
    expect(caught(() => createBackend(loose as JsBackendOptions)).argument).toBe('options.poolbytes');
  });

  it('through the registry too: loadBackend("js", { thread: 2 }) rejects with the same error', async () => {
    const importer = (specifier: string) => import(specifier === '@batchnorm/backend-js' ? './index.js' : specifier);
    await expect(loadBackend('js', { thread: 2 }, importer)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      argument: 'options.thread',
    });
  });
});

describe('js backend types', () => {
  it('createBackend returns the named JsBackend: a SyncBackend with readInto and the pool and thread statistics', () => {
    expectTypeOf(createBackend).returns.toEqualTypeOf<JsBackend>();
    expectTypeOf<JsBackend>().toExtend<SyncBackend<JsTensor, JsSaved>>();
    expectTypeOf<JsBackend['readInto']>().toBeFunction();
    expectTypeOf<JsBackend['details']['threads']>().toEqualTypeOf<number>();
    expectTypeOf<JsBackend['details']['threadsReason']>().toEqualTypeOf<string | undefined>();
    const backend = createBackend({ threads: 1 });
    expect(backend.details).toEqual({ precision: 'float32', threads: 1, simd: expect.any(String) });
    backend.destroy();
  });

  it('the published declarations name it, so a hover shows JsBackend and its docs (not a long structural type)', () => {
    const declarations = readFileSync(fileURLToPath(new URL('../dist/backend.d.ts', import.meta.url)), 'utf8');
    expect(declarations).toContain('export declare function createBackend(options?: JsBackendOptions): JsBackend;');
    expect(declarations).toMatch(/export interface JsBackend extends SyncBackend<JsTensor, JsSaved> \{/);
    expect(declarations).not.toContain('plain TypeScript');
  });
});

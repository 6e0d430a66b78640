import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SyncBackend } from '@batchnorm/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createBackend, type JsBackend, type JsSaved, type JsTensor } from './index.js';

// core's checkedOptions is tested in core: here only that this factory calls it with its keys
describe('js backend options', () => {
  it('refuses { thread: 2 } naming the key, listing its options and suggesting threads', () => {
    // @ts-expect-error -- `thread` is not an option (a typo of `threads`)
    expect(() => createBackend({ thread: 2 })).toThrow(
      expect.objectContaining({
        name: 'BatchNormError',
        code: 'INVALID_ARGUMENT',
        argument: 'options.thread',
        expected: 'only the options "threads", "parallelMinElements", "poolBytes", "simd"',
        hint: 'Did you mean "threads"?',
      }),
    );
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

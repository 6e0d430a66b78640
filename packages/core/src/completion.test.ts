import { describe, expect, it } from 'vitest';
import { asyncOnly } from './asyncOnly.js';
import type { Backend } from './backend.js';
import { createReferenceBackend } from './reference/index.js';

describe("a backend's completion", () => {
  it('the reference computes inside the call: on-return, nothing to wait for', () => {
    const b: Backend = createReferenceBackend();
    expect(b.completion).toBe('on-return');
    expect(b.onSubmittedWorkDone).toBeUndefined();
  });

  it('asyncOnly keeps the inner backend\'s completion and wait (its kernels are the inner ones)', async () => {
    expect(asyncOnly(createReferenceBackend()).completion).toBe('on-return');
    let waits = 0;
    const queued: Backend = {
      ...createReferenceBackend(),
      completion: 'queued',
      onSubmittedWorkDone: async () => void waits++,
    };
    const wrapped = asyncOnly(queued);
    expect(wrapped.completion).toBe('queued');
    await wrapped.onSubmittedWorkDone!();
    expect(waits).toBe(1);
    const { completion: _, ...undeclared } = createReferenceBackend();
    expect('completion' in asyncOnly(undeclared as Backend)).toBe(false);
  });
});

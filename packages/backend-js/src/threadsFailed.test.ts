// A helper that can never start (a page whose Content-Security-Policy refuses blob: workers:
// real Chromium reports it as the worker's error event): whenReady stops waiting for it, and the
// calling thread does all the work. Before, whenReady waited out its whole timeout.
import { describe, expect, it, vi } from 'vitest';
import type { Platform } from './platform.js';

vi.mock('#platform', async () => {
  const node = await import('./platform.node.js');
  const platform: Platform = {
    ...node.platform,
    startHelper(_source, _words, _init, onError) {
      setTimeout(() => onError('Refused to create a worker from blob: (CSP worker-src)'), 10);
      return { post: () => undefined, stop: () => undefined };
    },
  };
  return { platform };
});

const { ThreadTeam } = await import('./threads.js');
const { createBackend } = await import('./backend.js');

describe('ThreadTeam with helpers that fail to start', () => {
  it('whenReady resolves once every helper is ready or failed, not at its timeout', async () => {
    const team = new ThreadTeam(3);
    const started = Date.now();
    await team.whenReady(5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(team.helpersReady).toBe(0);
    // The work is done on the calling thread.
    const x = new Float32Array(8).fill(1); // 4 rows × 2 channels
    const sum = new Float64Array(2);
    const parts = team.run('shiftedSums', 4, (_part, r0, r1) => [x, 2, 1, r0, r1, new Float64Array(2), sum, new Float64Array(2)]);
    expect(parts).toBe(1);
    expect([...sum]).toEqual([4, 4]);
    team.destroy();
  });
});

describe('createBackend with helpers that fail to start', () => {
  it('details say 1 thread and why once the failure is known (before: threads stayed 2)', async () => {
    const backend = createBackend({ threads: 2 });
    expect(backend.details.threads).toBe(2);
    await backend.whenThreadsReady();
    expect(backend.details.threads).toBe(1);
    expect(backend.details.threadsReason).toMatch(/1 of 1 helper threads failed: Refused to create a worker from blob:/);
    expect(backend.readyHelpers()).toBe(0);
    backend.destroy();
  });
});

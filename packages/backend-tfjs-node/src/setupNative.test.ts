import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const setupScript = path.join(packageDir, 'scripts', 'setup-native.mjs');

/**
 * A project whose tfjs-node has no binding yet: tfjs-node's package.json (where node-pre-gyp
 * reads the binding's location) and node-pre-gyp itself, linked from the real install.
 */
function createProjectWithoutBinding(root: string): string {
  const tfjsPackageJson = createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json');
  const preGyp = path.dirname(createRequire(tfjsPackageJson).resolve('@mapbox/node-pre-gyp/package.json'));
  const tfjsDir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(tfjsDir, { recursive: true });
  fs.copyFileSync(tfjsPackageJson, path.join(tfjsDir, 'package.json'));
  fs.mkdirSync(path.join(root, 'node_modules', '@mapbox'), { recursive: true });
  fs.symlinkSync(preGyp, path.join(root, 'node_modules', '@mapbox', 'node-pre-gyp'));
  fs.writeFileSync(path.join(root, 'package.json'), '{ "name": "project", "private": true }\n');
  return tfjsDir;
}

function runSetup(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [setupScript, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BATCHNORM_TF_SKIP_DOWNLOAD: '1', ...env },
  });
}

describe('setup-native on a project without the binding', () => {
  let root: string;
  let tfjsDir: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'batchnorm-setup-'));
    tfjsDir = createProjectWithoutBinding(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('--check reports the missing binding and the command, exit 1', () => {
    const child = runSetup(['--check', '--from', root]);
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('binding does not load (not built)');
    expect(child.stderr).toContain('npx batchnorm-tfjs-node-setup');
  });

  it('names a BATCHNORM_TF_WHEEL that does not exist', () => {
    const child = runSetup(['--from', root], { BATCHNORM_TF_WHEEL: path.join(root, 'missing.whl') });
    expect(child.status).toBe(1);
    expect(child.stderr).toContain(`BATCHNORM_TF_WHEEL=${path.join(root, 'missing.whl')}: no such file`);
  });

  it('rejects a wheel without libtensorflow and leaves no half-unpacked deps/', () => {
    const wheel = path.join(root, 'tensorflow_cpu-0.0.0-py3-none-manylinux_x86_64.whl');
    const zip = spawnSync('python3', [
      '-c',
      'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr("tensorflow/include/tensorflow/c/c_api.h", "// empty\\n")',
      wheel,
    ]);
    expect(zip.status).toBe(0);
    const child = runSetup(['--from', root], { BATCHNORM_TF_WHEEL: wheel });
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('has no tensorflow/libtensorflow_cc.so.2');
    expect(fs.readdirSync(tfjsDir).sort()).toEqual(['package.json']);
  });
});

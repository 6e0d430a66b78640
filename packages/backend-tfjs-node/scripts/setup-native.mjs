#!/usr/bin/env node
// Makes @tensorflow/tfjs-node's native binding loadable, idempotently:
//   1. the binding already loads (tfjs-node's normal install worked, or an earlier run): done;
//   2. else run tfjs-node's own install (downloads libtensorflow + a prebuilt addon; online hosts);
//   3. else build the binding from a local TensorFlow CPU wheel (offline hosts, CI): unpack its
//      C library and C API headers into tfjs-node's deps/ and compile with node-pre-gyp.
// The wheel comes from $BATCHNORM_TF_WHEEL or is searched for on disk.
//
// Usage: batchnorm-tfjs-node-setup [--check] [--skip-download] [--from <dir>]
//   --check          only report whether the binding loads (exit 1 when it does not)
//   --skip-download  go straight to the wheel route (also BATCHNORM_TF_SKIP_DOWNLOAD=1)
//   --from <dir>     set up the tfjs-node that <dir> resolves (default: the one this package
//                    resolves; another package may get a different copy under pnpm)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

const SETUP_COMMAND = 'npx batchnorm-tfjs-node-setup';
const DOWNLOAD_TIMEOUT_MS = Number(process.env.BATCHNORM_TF_DOWNLOAD_TIMEOUT_MS ?? 300_000);
const BUILD_TIMEOUT_MS = 900_000;
// Marks a deps/ directory this script unpacked from a wheel (holds the wheel's file name).
const WHEEL_MARKER = 'BATCHNORM_FROM_WHEEL';
// tfjs-node 4.22.0 links against -ltensorflow and looks for libtensorflow.so.2.9.1 (its own
// libtensorflow version); TF 2.x wheels ship the same C API as libtensorflow_cc.so.2.
const LIBRARY_LINKS = {
  'libtensorflow.so': 'libtensorflow_cc.so.2',
  'libtensorflow.so.2': 'libtensorflow_cc.so.2',
  'libtensorflow.so.2.9.1': 'libtensorflow_cc.so.2',
  'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
  'libtensorflow_framework.so.2.9.1': 'libtensorflow_framework.so.2',
};
// Wheel members to unpack, relative to the wheel's `tensorflow/` directory.
const HEADER_PATTERNS = [
  /^include\/tensorflow\/c\/.+\.h$/,
  /^include\/tensorflow\/core\/platform\/ctstring[^/]*\.h$/,
  /^include\/tsl\/platform\/ctstring[^/]*\.h$/,
  /^include\/xla\/tsl\/c\/tsl_status\.h$/,
];
const LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];

const started = Date.now();
const log = (message) => process.stderr.write(`[tfjs-node setup] ${message}\n`);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

class SetupError extends Error {}

function resolveTfjsNode(from) {
  const require = createRequire(from === undefined ? import.meta.url : path.join(path.resolve(from), 'package.json'));
  let packageJson;
  try {
    packageJson = require.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    throw new SetupError(
      `@tensorflow/tfjs-node is not installed where ${from ?? '@batchnorm/backend-tfjs-node'} can resolve it. ` +
        'Install it first, without its install script (this command runs it): ' +
        'npm install --ignore-scripts @tensorflow/tfjs-node@4.22.0 (or pnpm add / yarn add @tensorflow/tfjs-node@4.22.0).',
    );
  }
  return { dir: path.dirname(packageJson), packageJson, require: createRequire(packageJson) };
}

/** Where tfjs-node itself looks for its binding (node-pre-gyp's `find`, as in its index.js). */
function bindingPath(tfjs) {
  return tfjs.require('@mapbox/node-pre-gyp').find(tfjs.packageJson);
}

/** Loads the binding in a child process, so a broken library cannot take this one down. */
function checkBinding(tfjs) {
  const binding = bindingPath(tfjs);
  if (!fs.existsSync(binding)) return { ok: false, binding, reason: 'not built' };
  const child = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', binding], {
    env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '0', TF_CPP_MIN_LOG_LEVEL: '2' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status === 0) return { ok: true, binding };
  const reason = (child.stderr || String(child.error ?? 'unknown error')).trim().split('\n').slice(0, 3).join(' | ');
  return { ok: false, binding, reason };
}

/** tfjs-node's own install: downloads libtensorflow and a prebuilt addon where allowed. */
function runOwnInstall(tfjs) {
  log(`trying tfjs-node's own install (download; timeout ${DOWNLOAD_TIMEOUT_MS / 1000} s)`);
  const child = spawnSync(process.execPath, ['scripts/install.js'], {
    cwd: tfjs.dir,
    encoding: 'utf8',
    timeout: DOWNLOAD_TIMEOUT_MS,
  });
  if (child.status === 0) return true;
  const output = `${child.stderr ?? ''}${child.stdout ?? ''}`;
  const why = child.error?.message ?? output.match(/Error: .*/)?.[0] ?? `exit code ${child.status}`;
  log(`tfjs-node's own install failed (${why})`);
  return false;
}

const WHEEL_NAME = /^tensorflow(?:_cpu)?-(\d+)\.(\d+)\.(\d+)[^-]*-[^-]+-[^-]+-(?:manylinux|linux)[^-]*x86_64\.whl$/;
const SKIPPED_DIRS = new Set(['proc', 'sys', 'dev', 'run', 'node_modules', '.git', '.pnpm-store', 'snap']);

function wheelVersion(name) {
  const match = WHEEL_NAME.exec(name);
  return match === null ? undefined : match.slice(1, 4).map(Number);
}

/** Depth-limited walk for TensorFlow CPU wheels; the newest version wins. */
function searchWheels(roots, maxDepth) {
  const found = [];
  const walk = (dir, depth) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isFile() && wheelVersion(entry.name) !== undefined) found.push(path.join(dir, entry.name));
      else if (entry.isDirectory() && depth < maxDepth && !SKIPPED_DIRS.has(entry.name)) {
        walk(path.join(dir, entry.name), depth + 1);
      }
    }
  };
  for (const root of roots) walk(root, 0);
  const newer = (a, b) => {
    const [va, vb] = [wheelVersion(path.basename(a)), wheelVersion(path.basename(b))];
    for (let i = 0; i < 3; i++) if (va[i] !== vb[i]) return vb[i] - va[i];
    return 0;
  };
  return [...new Set(found)].sort(newer);
}

function findWheel() {
  const fromEnv = process.env.BATCHNORM_TF_WHEEL;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!fs.statSync(fromEnv, { throwIfNoEntry: false })?.isFile()) {
      throw new SetupError(`BATCHNORM_TF_WHEEL=${fromEnv}: no such file.`);
    }
    return fromEnv;
  }
  const home = os.homedir();
  const likely = ['/opt', path.join(home, '.cache', 'pip'), path.join(home, 'Downloads'), process.cwd(), '/tmp', '/srv', '/usr/local', '/var/cache'];
  let wheels = searchWheels(likely, 6);
  if (wheels.length === 0) wheels = searchWheels(['/'], 8);
  if (wheels.length === 0) {
    throw new SetupError(
      "tfjs-node's native binding is missing, its download failed, and no TensorFlow CPU wheel " +
        '(tensorflow_cpu-2.*-manylinux*_x86_64.whl) was found on this machine. Either allow the ' +
        'download (storage.googleapis.com) and re-run, or fetch a wheel where you have access ' +
        '(pip download tensorflow-cpu --no-deps) and run: ' +
        `BATCHNORM_TF_WHEEL=/path/to/tensorflow_cpu-….whl ${SETUP_COMMAND}`,
    );
  }
  return wheels[0];
}

function extractMembers(wheel, target) {
  const python = `
import os, re, shutil, sys, zipfile
wheel, target, *patterns = sys.argv[1:]
patterns = [re.compile(p) for p in patterns]
count = 0
with zipfile.ZipFile(wheel) as archive:
    for info in archive.infolist():
        name = info.filename
        if not name.startswith('tensorflow/') or name.endswith('/'):
            continue
        rel = name[len('tensorflow/'):]
        if not any(p.search(rel) for p in patterns):
            continue
        dest = os.path.join(target, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with archive.open(info) as source, open(dest, 'wb') as sink:
            shutil.copyfileobj(source, sink, 1 << 22)
        count += 1
print(count)
`;
  const patterns = [
    ...LIBRARIES.map((name) => `^${name.replaceAll('.', '\\.')}$`),
    ...HEADER_PATTERNS.map((pattern) => pattern.source),
  ];
  const child = spawnSync('python3', ['-c', python, wheel, target, ...patterns], { encoding: 'utf8' });
  if (child.error?.code === 'ENOENT') {
    throw new SetupError('python3 is needed to unpack the TensorFlow wheel (apt-get install python3).');
  }
  if (child.status !== 0) throw new SetupError(`unpacking ${wheel} failed: ${child.stderr.trim()}`);
  return Number(child.stdout.trim());
}

/** Unpacks into a staging directory, then swaps it in: a crash never leaves half a deps/. */
function unpackWheel(wheel, tfjs) {
  const deps = path.join(tfjs.dir, 'deps');
  const staging = `${deps}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    const count = extractMembers(wheel, staging);
    const lib = path.join(staging, 'lib');
    fs.mkdirSync(lib, { recursive: true });
    for (const name of LIBRARIES) {
      const unpacked = path.join(staging, name);
      if (!fs.existsSync(unpacked)) throw new SetupError(`${wheel} has no tensorflow/${name}: not a TensorFlow 2.x CPU wheel?`);
      fs.renameSync(unpacked, path.join(lib, name));
    }
    for (const [link, target] of Object.entries(LIBRARY_LINKS)) fs.symlinkSync(target, path.join(lib, link));
    if (!fs.existsSync(path.join(staging, 'include', 'tensorflow', 'c', 'c_api.h'))) {
      throw new SetupError(`${wheel} has no C API headers (tensorflow/include/tensorflow/c/c_api.h).`);
    }
    fs.writeFileSync(path.join(staging, WHEEL_MARKER), `${path.basename(wheel)}\n`);
    fs.rmSync(deps, { recursive: true, force: true });
    fs.renameSync(staging, deps);
    return count;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function buildBinding(tfjs) {
  const env = { ...process.env, JOBS: process.env.JOBS ?? 'max' };
  // Use the installed Node's headers when present, so node-gyp need not download them.
  const prefix = path.dirname(path.dirname(process.execPath));
  if (env.npm_config_nodedir === undefined && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix;
  }
  const nodePreGyp = tfjs.require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  const child = spawnSync(process.execPath, [nodePreGyp, 'install', '--build-from-source'], {
    cwd: tfjs.dir,
    env,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) {
    const output = `${child.stdout ?? ''}${child.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new SetupError(
      `building the binding failed (node-pre-gyp install --build-from-source in ${tfjs.dir}; ` +
        `needs make and g++):\n${output || String(child.error)}`,
    );
  }
}

function main(argv) {
  const fromIndex = argv.indexOf('--from');
  const tfjs = resolveTfjsNode(fromIndex >= 0 ? argv[fromIndex + 1] : undefined);
  const before = checkBinding(tfjs);
  if (before.ok) {
    log(`binding loads (${path.relative(tfjs.dir, before.binding)}): nothing to do (${elapsed()})`);
    return 0;
  }
  if (argv.includes('--check')) {
    log(`binding does not load (${before.reason}). Run: ${SETUP_COMMAND}`);
    return 1;
  }
  log(`binding does not load yet (${before.reason})`);

  const fromWheel = fs.existsSync(path.join(tfjs.dir, 'deps', WHEEL_MARKER));
  const skipDownload = argv.includes('--skip-download') || process.env.BATCHNORM_TF_SKIP_DOWNLOAD === '1';
  if (!fromWheel && !skipDownload && runOwnInstall(tfjs)) {
    const after = checkBinding(tfjs);
    if (after.ok) {
      log(`binding installed by tfjs-node's own install (${elapsed()})`);
      return 0;
    }
    log(`tfjs-node's install finished but the binding does not load (${after.reason})`);
  }

  if (fromWheel) {
    log('libtensorflow already unpacked from a wheel; rebuilding the binding only');
  } else {
    const wheel = findWheel();
    log(`unpacking libtensorflow and the C API headers from ${wheel}`);
    const count = unpackWheel(wheel, tfjs);
    log(`unpacked ${count} files (${elapsed()})`);
  }
  log('building the binding with node-pre-gyp (about 30 s on 2 cores)');
  buildBinding(tfjs);
  const built = checkBinding(tfjs);
  if (!built.ok) throw new SetupError(`the built binding does not load: ${built.reason}`);
  log(`binding built from the wheel and loads (${elapsed()})`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  log(`error: ${error.message}`);
  process.exitCode = 1;
}

#!/usr/bin/env bash
# Proves the published packages work outside the monorepo, installed with npm the way the READMEs
# tell a user to: pack every public package, then in an empty project
#   1. npm install core and backend-js (nothing to build);
#   2. each backend with its peer dependencies, WITHOUT install scripts (tfjs-node's would download
#      libtensorflow and, where it cannot, fail and roll back the whole install), then its setup
#      command as the user types it (`npx batchnorm-tfjs-node-setup`);
#   3. the conformance CLI and interop (with onnxruntime-node, to run the models interop writes);
#   4. `npm rebuild gl`: gpu.js's headless-gl, installed without its build in step 2.
# Then each backend, loaded by name through core's registry in a process of its own (native
# engines do not always coexist in one), runs a BN training step read only through `read` (gpujs
# in headlessgl, under a virtual display), and the packed CLI (`npx batchnorm-conformance`) judges
# every backend on its grid and on the vectors the package ships. The backends are those of core's
# KNOWN_BACKENDS (scripts/backends.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-clean-room.XXXXXX")
trap 'rm -rf "$work"' EXIT

# headless-gl needs an X display; Xvfb gives one (as scripts/test.sh does).
with_display() {
  if [[ -n "${DISPLAY:-}" ]]; then
    "$@"
  else
    xvfb-run -a -s '-screen 0 1280x1024x24' "$@"
  fi
}

backends=$(node scripts/backends.mjs --json)
backend_dirs=$(node scripts/backends.mjs --field dir)
# The public packages: core, every backend, conformance, interop. `tarball[name]` is the packed file.
# shellcheck disable=SC2206 # one directory a line, no spaces
public=(packages/core $backend_dirs packages/conformance packages/interop)
declare -A tarball
mkdir -p "$work/tarballs" "$work/app"
for dir in "${public[@]}"; do
  name=$(node -p "require('./$dir/package.json').name")
  tarball[$name]=$(cd "$dir" && pnpm pack --pack-destination "$work/tarballs" | tail -1)
done
ls "$work/tarballs"

# What a backend package asks of its user: its peer dependencies at the versions it names, and the
# commands it ships for a native build (bin names ending in -setup, idempotent).
peers_of() {
  node -e 'const { peerDependencies = {} } = require(`./${process.argv[1]}/package.json`);
    for (const [name, range] of Object.entries(peerDependencies)) console.log(`${name}@${range}`);' "$1"
}
setups_of() {
  node -e 'const { bin } = require(`./${process.argv[1]}/package.json`);
    for (const name of Object.keys(typeof bin === "object" ? bin : {})) if (name.endsWith("-setup")) console.log(name);' "$1"
}
declare -A peers setups
for dir in $backend_dirs; do
  peers[$dir]=$(peers_of "$dir")
  setups[$dir]=$(setups_of "$dir")
done
name_of() { node -p "require('./$1/package.json').name"; }
backend_names=()
for dir in $backend_dirs; do backend_names+=("$(name_of "$dir")"); done

step() { printf '\n== %s\n' "$*"; }
cd "$work/app"
npm init -y >/dev/null
npm_install() { npm install --no-audit --no-fund "$@"; }

# 1. The root README's first line.
step 'npm install @batchnorm/core @batchnorm/backend-js'
npm_install "${tarball[@batchnorm/core]}" "${tarball[@batchnorm/backend-js]}"

# 2. Each backend as its README says: without scripts, then its setup command.
i=0
for dir in $backend_dirs; do
  name=${backend_names[$i]}
  i=$((i + 1))
  # shellcheck disable=SC2086 # package@version specifiers, no spaces
  step "npm install --ignore-scripts $name" ${peers[$dir]}
  # shellcheck disable=SC2086
  npm_install --ignore-scripts "${tarball[$name]}" ${peers[$dir]}
  for setup in ${setups[$dir]}; do
    step "npx $setup"
    npx --no-install "$setup"
  done
done

# 3. The tools a user adds to judge and exchange.
# onnxruntime-node, to run the models interop writes: its install script would download CUDA
# binaries (its CPU binding is in the tarball), so the README's ONNXRUNTIME_NODE_INSTALL=skip.
step 'ONNXRUNTIME_NODE_INSTALL=skip npm install --ignore-scripts @batchnorm/conformance @batchnorm/interop onnxruntime-node@1.30.0'
ONNXRUNTIME_NODE_INSTALL=skip npm_install --ignore-scripts "${tarball[@batchnorm/conformance]}" "${tarball[@batchnorm/interop]}" onnxruntime-node@1.30.0

# 4. gpu.js in Node: build headless-gl, which step 2 installed without its build script.
expect_headlessgl=0
if [[ -d node_modules/gl ]]; then
  step 'npm rebuild gl'
  # Offline, node-gyp cannot download Node's headers: build against the installed ones, as
  # scripts/setup.sh does (online, a user needs nothing of the kind).
  if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
  npm rebuild gl
  expect_headlessgl=1
fi

cat > smoke.mjs <<'SMOKE'
import assert from 'node:assert/strict';
import { BatchNorm, createReferenceBackend, loadBackend, SPECIFICATION_VERSION } from '@batchnorm/core';

const { name, packageName } = JSON.parse(process.argv[2]);
const shape = [6, 4, 2]; // NCL: a layout of contract v2
const x = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i) * 3 + (i % 4));
const dy = Float32Array.from({ length: 48 }, (_, i) => Math.cos(i * 0.7));
// One training step (forward, backward, SGD on gamma and beta), read only through `read`.
async function trainingStep(backend) {
  const layer = new BatchNorm(backend, { numFeatures: 4, layout: 'NCL' });
  const xt = backend.upload(x, shape);
  const yt = layer.forward(xt);
  const y = await backend.read(yt);
  const dyt = backend.upload(dy, shape);
  const dxt = layer.backward(dyt);
  const dx = await backend.read(dxt);
  layer.sgdStep(0.1);
  const state = await layer.state();
  for (const t of [xt, yt, dyt, dxt]) backend.dispose(t);
  layer.dispose();
  return { y, dx, state };
}
const expected = await trainingStep(createReferenceBackend());

const close = (actual, wanted, what) => {
  assert.equal(actual.length, wanted.length, what);
  for (let i = 0; i < wanted.length; i++) {
    assert.ok(Math.abs(actual[i] - wanted[i]) < 1e-4, `${what}[${i}]: ${actual[i]} vs ${wanted[i]}`);
  }
};
// The package's manifest, and the registry loading it by name from this project's dependencies.
const { backendModule } = await import(packageName);
assert.equal(backendModule.name, name);
assert.equal(backendModule.packageName, packageName);
const backend = await loadBackend(name, {}, (specifier) => import(specifier));
assert.equal(backend.specificationVersion, SPECIFICATION_VERSION);
// `npm rebuild gl` built headless-gl: gpu.js must run on it, not fall back to its CPU mode.
if (name === 'gpujs' && process.env.EXPECT_HEADLESSGL === '1') assert.equal(backend.details.mode, 'headlessgl', JSON.stringify(backend.details));
const got = await trainingStep(backend);
close(got.y, expected.y, `${name} y`);
close(got.dx, expected.dx, `${name} dx`);
for (const key of ['gamma', 'beta', 'runningMean', 'runningVar']) {
  close(got.state[key], expected.state[key], `${name} ${key}`);
}
console.log(`${packageName}: BN training step ok (${JSON.stringify(backend.details)})`);
backend.destroy();
SMOKE
step 'a BN training step on each backend, loaded by name'
for backend in $(node -e 'for (const b of JSON.parse(process.argv[1])) console.log(JSON.stringify(b))' "$backends"); do
  EXPECT_HEADLESSGL=$expect_headlessgl with_display node smoke.mjs "$backend"
done

# The packed conformance CLI as its README tells an npm user: every installed backend (each in a
# child process), on the built-in grid and on the vectors the package ships.
step 'npx batchnorm-conformance --backend all'
with_display npx --no-install batchnorm-conformance --backend all
step 'npx batchnorm-conformance --backend all --vectors node_modules/@batchnorm/conformance/vectors/conformance-vectors.json'
with_display npx --no-install batchnorm-conformance --backend all \
  --vectors node_modules/@batchnorm/conformance/vectors/conformance-vectors.json

# interop as a user runs it: a layer's state through safetensors (PyTorch's names) and ONNX, read
# back, and the written models run by onnxruntime-node; then ONNX's own BatchNorm tests (the
# repository's fixtures) on every backend through the packed CLI.
cat > smoke-interop.mjs <<'SMOKE'
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchNorm, createReferenceBackend } from '@batchnorm/core';
import { encodeBatchNormOnnx, encodeMlpOnnx, onnxBatchNormState, readOnnxBatchNorms } from '@batchnorm/interop';
import { loadBatchNorm, readOnnxFile, readSafetensorsFile, saveBatchNorm, writeOnnxFile } from '@batchnorm/interop/node';
import ort from 'onnxruntime-node';

const dir = mkdtempSync(join(tmpdir(), 'clean-room-interop-'));
const backend = createReferenceBackend();
const shape = [4, 3, 2, 2];
const x = Float64Array.from({ length: 48 }, (_, i) => 2 + Math.sin(i));
const layer = new BatchNorm(backend, { numFeatures: 3, layout: 'NCHW' });
const xt = backend.upload(x, shape);
backend.dispose(layer.forward(xt)); // one training step
layer.eval();
const yt = layer.forward(xt);
const y = await backend.read(yt);
const state = await layer.state();

await saveBatchNorm(join(dir, 'bn.safetensors'), layer, { dtype: 'F64' });
const file = await readSafetensorsFile(join(dir, 'bn.safetensors'));
assert.deepEqual([...file.tensors.keys()].sort(), ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']);
const loaded = await loadBatchNorm(join(dir, 'bn.safetensors'), backend);
assert.deepEqual(await loaded.state(), state);

const bnPath = join(dir, 'bn.onnx');
await writeOnnxFile(bnPath, encodeBatchNormOnnx(state));
const [node] = readOnnxBatchNorms(await readOnnxFile(bnPath));
assert.deepEqual(onnxBatchNormState(node, { layout: 'NCHW' }).runningMean, state.runningMean.map(Math.fround));
const session = await ort.InferenceSession.create(bnPath);
const { y: onnxY } = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), shape) });
for (let i = 0; i < y.length; i++) assert.ok(Math.abs(onnxY.data[i] - y[i]) < 1e-5, `onnxruntime y[${i}]: ${onnxY.data[i]} vs ${y[i]}`);
await session.release();

const mlp = encodeMlpOnnx({
  layers: [
    { name: 'fc1', inFeatures: 6, outFeatures: 3, weight: new Array(18).fill(0.1), weightLayout: 'inOut', batchNorm: { name: 'bn1', state: { ...state, layout: 'NC' } }, activation: 'sigmoid' },
    { name: 'out', inFeatures: 3, outFeatures: 2, weight: new Array(6).fill(0.2), weightLayout: 'inOut', bias: [0, 0.5] },
  ],
});
const mlpSession = await ort.InferenceSession.create(mlp);
const { logits } = await mlpSession.run({ x: new ort.Tensor('float32', new Float32Array(30).fill(0.5), [5, 6]) });
assert.deepEqual(logits.dims, [5, 2]);
await mlpSession.release();

for (const t of [xt, yt]) backend.dispose(t);
layer.dispose();
loaded.dispose();
rmSync(dir, { recursive: true });
console.log(`@batchnorm/interop: safetensors and ONNX round trips ok (onnxruntime-node ${ort.env.versions.common})`);
SMOKE
step 'interop: safetensors and ONNX round trips, models run by onnxruntime-node'
node smoke-interop.mjs
step 'npx batchnorm-conformance --backend all --onnx-test (ONNX BatchNorm tests)'
with_display npx --no-install batchnorm-conformance --backend all --onnx-test "$root/packages/interop/fixtures/onnx-tests"
echo 'clean-room install test passed'

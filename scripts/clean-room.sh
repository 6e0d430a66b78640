#!/usr/bin/env bash
# Proves the published packages work outside the monorepo: pack every public package, install the
# tarballs with npm into an empty project, load each backend by name through core's registry, run a
# BN training step reading only through `read`, and run the packed conformance CLI against every
# packed backend. The backends are those of core's KNOWN_BACKENDS (scripts/backends.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-clean-room.XXXXXX")
trap 'rm -rf "$work"' EXIT

backends=$(node scripts/backends.mjs --json)
backend_dirs=$(node scripts/backends.mjs --field dir)
backend_names=$(node scripts/backends.mjs --field name)
# The public packages: core, every backend, conformance.
# shellcheck disable=SC2206 # one directory a line, no spaces
public=(packages/core $backend_dirs packages/conformance packages/interop)
mkdir -p "$work/tarballs" "$work/app"
for dir in "${public[@]}"; do
  (cd "$dir" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
ls "$work/tarballs"

# The engines are the user's to bring: each backend's peer dependencies, at the versions it names.
# shellcheck disable=SC2086
peers=$(node -e '
  for (const dir of process.argv.slice(1)) {
    const { peerDependencies = {} } = require(`./${dir}/package.json`);
    for (const [name, range] of Object.entries(peerDependencies)) console.log(`${name}@${range}`);
  }' $backend_dirs | sort -u)
# A backend that needs a native build ships it as an idempotent command whose name ends in -setup.
# shellcheck disable=SC2086
setups=$(node -e '
  for (const dir of process.argv.slice(1)) {
    const { bin } = require(`./${dir}/package.json`);
    for (const name of Object.keys(typeof bin === "object" ? bin : {})) if (name.endsWith("-setup")) console.log(name);
  }' $backend_dirs)

cd "$work/app"
npm init -y >/dev/null
# Installed without their scripts: gl would compile again and tfjs-node would try to download
# libtensorflow; the backends' setup commands build what they need below.
# shellcheck disable=SC2086 # package@version specifiers, no spaces
npm install --no-audit --no-fund --ignore-scripts "$work"/tarballs/*.tgz $peers >/dev/null
for setup in $setups; do
  npx --no-install "$setup"
done

cat > smoke.mjs <<'SMOKE'
import assert from 'node:assert/strict';
import { BatchNorm, createReferenceBackend, loadBackend, SPECIFICATION_VERSION } from '@batchnorm/core';

const backends = JSON.parse(process.env.BATCHNORM_BACKENDS);
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
for (const { name, packageName } of backends) {
  // The package's manifest, and the registry loading it by name from this project's dependencies.
  const { backendModule } = await import(packageName);
  assert.equal(backendModule.name, name);
  assert.equal(backendModule.packageName, packageName);
  const backend = await loadBackend(name, {}, (specifier) => import(specifier));
  assert.equal(backend.specificationVersion, SPECIFICATION_VERSION);
  const got = await trainingStep(backend);
  close(got.y, expected.y, `${name} y`);
  close(got.dx, expected.dx, `${name} dx`);
  for (const key of ['gamma', 'beta', 'runningMean', 'runningVar']) {
    close(got.state[key], expected.state[key], `${name} ${key}`);
  }
  console.log(`${packageName}: BN training step ok (${JSON.stringify(backend.details)})`);
  backend.destroy();
}
SMOKE
TF_ENABLE_ONEDNN_OPTS=0 BATCHNORM_BACKENDS=$backends node smoke.mjs
# The packed conformance CLI on every packed backend: the quick grid, and the independent vectors.
for name in $backend_names; do
  TF_ENABLE_ONEDNN_OPTS=0 npx --no-install batchnorm-conformance --backend "$name" --grid quick
  TF_ENABLE_ONEDNN_OPTS=0 npx --no-install batchnorm-conformance --backend "$name" \
    --vectors "$root/../shared/vectors/pytorch-onnxruntime-sample.json"
done
echo 'clean-room install test passed'

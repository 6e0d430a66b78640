#!/usr/bin/env bash
# Proves the published packages work outside the monorepo: pack every public package, install the
# tarballs with npm into an empty project, import each backend by its package name, run a BN
# training step, and run the packed conformance CLI against the packed backend-js.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-clean-room.XXXXXX")
trap 'rm -rf "$work"' EXIT

public=(core backend-js backend-gpujs backend-tfjs-node conformance)
mkdir -p "$work/tarballs" "$work/app"
for name in "${public[@]}"; do
  (cd "packages/$name" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
ls "$work/tarballs"

cd "$work/app"
npm init -y >/dev/null
# The engines are the user's to bring (peer dependencies). gl and tfjs-node are installed without
# their scripts here: gl would compile again and tfjs-node would try to download libtensorflow;
# tfjs-node's binding is built from the packed package's own setup command below.
npm install --no-audit --no-fund --ignore-scripts "$work"/tarballs/*.tgz \
  gpu.js@2.24.1 @tensorflow/tfjs-node@4.22.0 >/dev/null
npx --no-install batchnorm-tfjs-node-setup

cat > smoke.mjs <<'EOF'
import assert from 'node:assert/strict';
import { BatchNorm, createReferenceBackend } from '@batchnorm/core';

const packages = {
  js: '@batchnorm/backend-js',
  gpujs: '@batchnorm/backend-gpujs',
  'tfjs-node': '@batchnorm/backend-tfjs-node',
};
const options = { gpujs: { mode: 'cpu' } };
const x = Float32Array.from({ length: 6 * 4 }, (_, i) => Math.sin(i) * 3 + (i % 4));
const dy = Float32Array.from({ length: 6 * 4 }, (_, i) => Math.cos(i * 0.7));
// One training step (forward, backward, SGD on gamma and beta) on the float64 reference.
function trainingStep(backend) {
  const layer = new BatchNorm(backend, { numFeatures: 4 });
  const y = backend.readSync(layer.forward(backend.upload(x, [6, 4])));
  const dx = backend.readSync(layer.backward(backend.upload(dy, [6, 4])));
  layer.sgdStep(0.1);
  return { y, dx, state: layer.state() };
}
const expected = trainingStep(createReferenceBackend());

const close = (actual, wanted, what) => {
  assert.equal(actual.length, wanted.length, what);
  for (let i = 0; i < wanted.length; i++) {
    assert.ok(Math.abs(actual[i] - wanted[i]) < 1e-4, `${what}[${i}]: ${actual[i]} vs ${wanted[i]}`);
  }
};
for (const [name, specifier] of Object.entries(packages)) {
  const { createBackend, backendName } = await import(specifier);
  assert.equal(backendName, name);
  const backend = await createBackend(options[name]);
  const got = trainingStep(backend);
  close(got.y, expected.y, `${name} y`);
  close(got.dx, expected.dx, `${name} dx`);
  for (const key of ['gamma', 'beta', 'runningMean', 'runningVar']) {
    close(got.state[key], expected.state[key], `${name} ${key}`);
  }
  console.log(`${specifier}: BN training step ok (${JSON.stringify(backend.details)})`);
  backend.destroy();
}
EOF
TF_ENABLE_ONEDNN_OPTS=0 node smoke.mjs
npx --no-install batchnorm-conformance --backend js --grid quick
npx --no-install batchnorm-conformance --backend js \
  --vectors "$root/../shared/vectors/pytorch-onnxruntime-sample.json"
echo 'clean-room install test passed'

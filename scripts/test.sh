#!/usr/bin/env bash
# The whole test suite: the root's backend dependencies against core's one list, lint, types, unit
# and conformance tests of every package (GPU tests under a virtual X display), the browser tests,
# the conformance CLI on the shared vectors and on ONNX's backend tests, and the backend template
# end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

# headless-gl needs an X display; Xvfb gives one (rendered by Mesa in software).
with_display() {
  if [[ -n "${DISPLAY:-}" ]]; then
    "$@"
  elif command -v xvfb-run >/dev/null; then
    xvfb-run -a -s '-screen 0 1280x1024x24' "$@"
  else
    echo 'warning: no DISPLAY and no xvfb-run: GPU tests will fail (apt-get install xvfb xauth)' >&2
    "$@"
  fi
}

# The root package.json depends on every backend of core's KNOWN_BACKENDS (the tools import them
# from the root node_modules); names what is missing otherwise.
node scripts/sync-backends.mjs
pnpm build
# publint and arethetypeswrong on every public package as packed for publishing.
bash scripts/check-packages.sh
pnpm turbo run lint typecheck
with_display pnpm turbo run test --concurrency=1

# Every package's browser tests (gpu.js's build in headless Chromium, WebGL2 through SwiftShader).
pnpm -r --workspace-concurrency=1 --if-present run test:browser

# The conformance CLI on every installed backend: the built-in grid, and the independent vectors.
with_display pnpm conformance --backend all
vectors=../shared/vectors/pytorch-onnxruntime-sample.json
if [[ -f "$vectors" ]]; then
  with_display pnpm conformance --vectors "$vectors" --backend all
else
  echo "error: $vectors not found (shared/ is expected beside the clone)" >&2
  exit 1
fi
# ONNX's own BatchNorm backend tests (the five pytorch-converted ones, Apache-2.0) and the
# training-mode ones generated with onnxruntime, on every installed backend.
with_display pnpm conformance --onnx-test packages/interop/fixtures/onnx-tests --backend all

# A backend made only from templates/backend-template, added with one entry to KNOWN_BACKENDS, runs
# in the conformance CLI, the MNIST app and the bench (a temporary copy of the workspace).
bash scripts/test-template.sh

#!/usr/bin/env bash
# The whole test suite: lint, types, unit and conformance tests of every package (GPU tests under
# a virtual X display), the browser tests, and the conformance CLI on the shared vectors.
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

pnpm build
# publint and arethetypeswrong on every public package as packed for publishing.
bash scripts/check-packages.sh
pnpm turbo run lint typecheck
with_display pnpm turbo run test --concurrency=1

# gpu.js's browser build in headless Chromium (WebGL2 through SwiftShader).
pnpm --filter @batchnorm/backend-gpujs test:browser

# The conformance CLI on every installed backend: the built-in grid, and the independent vectors.
with_display pnpm conformance --backend all
vectors=../shared/vectors/pytorch-onnxruntime-sample.json
if [[ -f "$vectors" ]]; then
  with_display pnpm conformance --vectors "$vectors" --backend all
else
  echo "error: $vectors not found (shared/ is expected beside the clone)" >&2
  exit 1
fi

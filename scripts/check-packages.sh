#!/usr/bin/env bash
# Package quality gates on every public package, as packed for publishing: publint (errors fail,
# warnings and suggestions are shown) and arethetypeswrong (ESM-only: CommonJS `require` of these
# packages is not supported, so only the ESM resolutions must be clean). Needs `pnpm build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
public=(core backend-js backend-gpujs backend-tfjs-node conformance)
tarballs=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-check-packages.XXXXXX")
trap 'rm -rf "$tarballs"' EXIT

for name in "${public[@]}"; do
  dir=packages/$name
  if [[ ! -f $dir/dist/index.js || ! -f $dir/dist/index.d.ts ]]; then
    echo "error: $dir/dist is not built (run pnpm build first)" >&2
    exit 1
  fi
  for file in LICENSE README.md; do
    [[ -f $dir/$file ]] || { echo "error: $dir/$file is missing" >&2; exit 1; }
  done
  echo "== @batchnorm/$name"
  (cd "$dir" && pnpm exec publint run --level warning --pack pnpm)
  tarball=$(cd "$dir" && pnpm pack --pack-destination "$tarballs" | tail -n 1)
  pnpm exec attw "$tarball" --profile esm-only --format ascii
done
echo 'check-packages: publint and attw clean on every public package'

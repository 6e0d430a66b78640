#!/usr/bin/env bash
# Package quality gates on every public package, as packed for publishing: publint (errors fail,
# warnings and suggestions are shown) and arethetypeswrong (ESM-only: CommonJS `require` of these
# packages is not supported, so only the ESM resolutions must be clean). Needs `pnpm build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
# The public packages: core, every backend of core's KNOWN_BACKENDS, conformance.
backend_dirs=$(node scripts/backends.mjs --field dir)
# shellcheck disable=SC2206 # one directory a line, no spaces
public=(packages/core $backend_dirs packages/conformance packages/interop)
tarballs=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-check-packages.XXXXXX")
trap 'rm -rf "$tarballs"' EXIT

for dir in "${public[@]}"; do
  if [[ ! -f $dir/dist/index.js || ! -f $dir/dist/index.d.ts ]]; then
    echo "error: $dir/dist is not built (run pnpm build first)" >&2
    exit 1
  fi
  for file in LICENSE README.md; do
    [[ -f $dir/$file ]] || { echo "error: $dir/$file is missing" >&2; exit 1; }
  done
  echo "== $(node -p "require('./$dir/package.json').name")"
  (cd "$dir" && pnpm exec publint run --level warning --pack pnpm)
  tarball=$(cd "$dir" && pnpm pack --pack-destination "$tarballs" | tail -n 1)
  pnpm exec attw "$tarball" --profile esm-only --format ascii
done
echo 'check-packages: publint and attw clean on every public package'

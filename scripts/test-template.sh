#!/usr/bin/env bash
# Adding a backend is one list entry plus the package (issue 12), shown end to end: in a temporary
# copy of this workspace, templates/backend-template becomes packages/backend-example (copied and
# renamed, nothing else), ONE entry is added to core's KNOWN_BACKENDS, the root dependency is
# derived from the list (scripts/sync-backends.mjs --write), and then the registry,
# `pnpm conformance --backend example`, `pnpm mnist --backend example` and
# `pnpm bench --only example` run it, and the example package's own tests (the whole conformance
# suite, its manifest against the list, its README) pass.
#
# Offline and without native builds: the install reuses this machine's pnpm store (hard links,
# --ignore-scripts), and nothing needs a display or tfjs-node's binding. 94 s on the 2-core
# development machine at load 2.3, 168 s at load 5 (docs/adding-a-backend.md). This tree is not
# touched.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-template.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo"
export TURBO_TELEMETRY_DISABLED=1

log() { printf '==> [%3ss] %s\n' "$((SECONDS - start))" "$*" >&2; }
fail() {
  echo "error: $*" >&2
  exit 1
}

log "Copying the workspace (tracked and new files, nothing ignored) to $repo"
# --ignore-failed-read: a tracked file deleted in the working tree is simply not copied.
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$repo"
cd "$repo"

log 'pnpm install, offline, from the pnpm store: the checkout as a developer has it'
pnpm install --offline --frozen-lockfile=false --ignore-scripts --reporter=silent

# Checksums of the sources (not node_modules, dist), to show below what adding the backend changed.
sources() { find . \( -name node_modules -o -name dist -o -name .turbo \) -prune -o -type f -print0 | sort -z | xargs -0 sha1sum; }
sources >"$work/before.sha1"

log 'packages/backend-example: a copy of templates/backend-template, renamed'
cp -R templates/backend-template packages/backend-example
grep -rl 'backend-template' packages/backend-example | xargs sed -i 's/backend-template/backend-example/g'
sed -i "s/^const name = 'template';/const name = 'example';/" packages/backend-example/src/backend.ts
grep -q "^const name = 'example';" packages/backend-example/src/backend.ts || fail 'the template has no "const name" to rename'

log 'The one list entry, in packages/core/src/knownBackends.ts'
node - <<'ENTRY'
const fs = require('node:fs');
const file = 'packages/core/src/knownBackends.ts';
const source = fs.readFileSync(file, 'utf8');
const next = source.replace(/^(\] as const satisfies)/m, "  { name: 'example', packageName: '@batchnorm/backend-example' },\n$1");
if (next === source) throw new Error(`${file}: the end of KNOWN_BACKENDS was not found`);
fs.writeFileSync(file, next);
ENTRY
added=$(diff "$root/packages/core/src/knownBackends.ts" packages/core/src/knownBackends.ts | grep -c '^>' || true)
[[ $added == 1 ]] || fail "expected one line added to the list, got $added"

log 'The root dependency, derived from the list'
if node scripts/sync-backends.mjs 2>"$work/sync.err"; then fail 'sync-backends accepted a root package.json without the new backend'; fi
grep -q 'does not depend on @batchnorm/backend-example' "$work/sync.err" || fail "sync-backends did not name the missing dependency: $(cat "$work/sync.err")"
node scripts/sync-backends.mjs --write >/dev/null
node scripts/sync-backends.mjs >/dev/null
# By hand: the new package and the list entry; derived: the root package.json. Nothing else.
changed=$(sources | { diff "$work/before.sha1" - || true; } | sed -n 's/^[<>] [0-9a-f]*  \.\///p' | { grep -v '^packages/backend-example/' || true; } | sort -u | tr '\n' ' ')
[[ $changed == 'package.json packages/core/src/knownBackends.ts ' ]] || fail "adding the backend changed more than the list and the root package.json: $changed"

log 'pnpm install again: links the new package, and at the root'
pnpm install --offline --frozen-lockfile=false --ignore-scripts --reporter=silent

log 'Building core, conformance (and interop, which it imports), the example backend, the MNIST app and the bench'
pnpm --filter @batchnorm/core --filter @batchnorm/readme-example --filter @batchnorm/interop --filter @batchnorm/conformance \
  --filter @batchnorm/backend-example --filter @batchnorm/mnist --filter @batchnorm/bench \
  --reporter=append-only run build >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail 'build failed'; }

log "The example package's typecheck, lint and tests (the whole conformance suite, the manifest against the list, the README)"
for task in typecheck lint test; do
  pnpm --filter @batchnorm/backend-example run "$task" >"$work/$task.log" 2>&1 || { cat "$work/$task.log" >&2; fail "backend-example $task failed"; }
done
grep -E 'Tests .*passed' "$work/test.log" >&2

log 'The registry, from the root (where the tools import backends from)'
node --input-type=module -e "
  import assert from 'node:assert/strict';
  import { KNOWN_BACKENDS, knownBackendNames, loadBackend } from '@batchnorm/core';
  assert.ok(knownBackendNames().includes('example'), 'knownBackendNames() lacks example');
  assert.deepEqual(KNOWN_BACKENDS.at(-1), { name: 'example', packageName: '@batchnorm/backend-example' });
  const backend = await loadBackend('example', {}, (specifier) => import(specifier));
  assert.equal(backend.name, 'example');
  backend.destroy();
  console.log('registry: example loads through KNOWN_BACKENDS');
" >&2

log 'pnpm conformance --backend example'
pnpm -s conformance --backend example --json >"$work/conformance.json" 2>"$work/conformance.err" ||
  { cat "$work/conformance.err" >&2; fail 'pnpm conformance --backend example failed'; }
node - "$work/conformance.json" <<'CHECK'
const assert = require('node:assert/strict');
const text = require('node:fs').readFileSync(process.argv[2], 'utf8');
const doc = JSON.parse(text);
// whatever the document's layout, it reports backend "example" and no failure
assert.match(text, /"example"/, 'the report does not mention backend example');
const results = JSON.stringify(doc).match(/"pass":(true|false)/g) ?? [];
assert.ok(results.length > 0, 'no case results');
assert.ok(!results.includes('"pass":false'), 'a case failed');
console.error(`conformance: backend example, ${results.length} cases, all passed`);
CHECK

log 'pnpm mnist --backend example (both variants, 20 steps, 200 test images)'
pnpm -s mnist --backend example --steps 20 --eval-every 10 --population-batches 2 --test-limit 200 \
  --out "$work/mnist" >"$work/mnist.out" 2>"$work/mnist.err" || { cat "$work/mnist.err" >&2; fail 'pnpm mnist --backend example failed'; }
node - "$work/mnist/metrics.json" <<'CHECK'
const assert = require('node:assert/strict');
const metrics = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
assert.equal(metrics.config.backend, 'example');
assert.equal(metrics.finished, true);
assert.deepEqual(metrics.runs.map((r) => r.variant), ['bn', 'plain']);
for (const run of metrics.runs) {
  assert.equal(run.backend, 'example');
  assert.equal(run.stepsDone, 20);
  assert.equal(run.diverged, null);
  assert.deepEqual(run.evals.map((e) => e.step), [0, 10, 20]);
}
console.error(`mnist: backend example, ${metrics.runs.map((r) => `${r.variant} ${(100 * r.evals.at(-1).testAccuracy).toFixed(1)}%`).join(', ')} after 20 steps`);
CHECK

log 'pnpm bench --only example (--quick, two small shapes)'
pnpm -s bench --quick --json --only example --shapes NC:60x100,NCL:4x3x5 >"$work/bench.json" 2>"$work/bench.err" ||
  { cat "$work/bench.err" >&2; fail 'pnpm bench --only example failed'; }
node - "$work/bench.json" <<'CHECK'
const assert = require('node:assert/strict');
const doc = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
assert.deepEqual(doc.skipped.filter((s) => s.backend === 'example'), [], 'example was skipped');
const ours = doc.results.filter((r) => r.backend === 'example');
// each kernel timed twice (read back and resident: the manifest says host-resident)
const kernels = ours.filter((r) => r.op !== 'mnistStep');
assert.equal(kernels.length, 3 * 2 * 2, 'three kernels on two shapes, read back and resident');
assert.equal(kernels.filter((r) => r.readBack === false).length, 3 * 2, 'three kernels on two shapes timed resident');
assert.equal(ours.length - kernels.length, 2, 'the two MNIST steps');
for (const r of ours) {
  assert.equal(r.error, undefined, `${r.op}: ${r.error}`);
  assert.ok(r.medianMs > 0);
}
assert.deepEqual(doc.results.filter((r) => r.op !== 'copy' && r.backend !== 'example'), []);
console.error(`bench: backend example, ${ours.length} results, all checked and timed`);
CHECK

log "template test passed: one list entry made packages/backend-example a backend of every tool ($((SECONDS - start)) s)"

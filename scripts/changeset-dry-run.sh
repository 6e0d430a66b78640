#!/usr/bin/env bash
# Shows that `changeset version` bumps versions and internal dependency ranges as configured,
# without touching this tree: in a throw-away git worktree of HEAD, only a sample patch changeset
# for @batchnorm/core is applied (the pending ones are set aside so the expected result is exact).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
before=$(git status --porcelain --untracked-files=no)
work=$(mktemp -d "${TMPDIR:-/tmp}/batchnorm-changeset.XXXXXX")
cleanup() {
  git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# core's dependents: every backend of core's KNOWN_BACKENDS, and conformance.
dependents=$(node scripts/backends.mjs --field dir | tr '\n' ' ')packages/conformance
git worktree add --detach "$work/tree" HEAD >/dev/null 2>&1
cd "$work/tree"

core_before=$(node -p "require('./packages/core/package.json').version")
# shellcheck disable=SC2086 # directories without spaces
dependents_before=$(node -p "JSON.stringify(Object.fromEntries(process.argv.slice(1).map((d) => [d, require('./' + d + '/package.json').version])))" $dependents)
find .changeset -name '*.md' ! -name README.md -delete
cat > .changeset/sample-core-fix.md <<'CHANGESET'
---
'@batchnorm/core': patch
---

Sample fix (changeset dry run).
CHANGESET
# The CLI from this checkout's node_modules: the worktree has none and needs none.
node "$root/node_modules/@changesets/cli/bin.js" version >/dev/null

node - "$core_before" "$dependents_before" <<'CHECK'
const fs = require('node:fs');
const assert = require('node:assert/strict');
const read = (dir) => JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8'));
const [major, minor, patch] = process.argv[2].split('.').map(Number);
const core = read('packages/core');
const before = JSON.parse(process.argv[3]);
assert.equal(core.version, `${major}.${minor}.${patch + 1}`, 'core gets the patch bump');
assert.match(fs.readFileSync('packages/core/CHANGELOG.md', 'utf8'), /Sample fix \(changeset dry run\)/);
assert.equal(fs.existsSync('.changeset/sample-core-fix.md'), false, 'the changeset is consumed');
for (const dir of Object.keys(before)) {
  const pkg = read(dir);
  // workspace:^ stays as written (pnpm publish turns it into ^<core version>), and 0.1.1 is
  // inside the ^0.1.0 a dependent was published with, so the dependents keep their versions.
  assert.equal(pkg.dependencies['@batchnorm/core'], 'workspace:^', `${pkg.name}'s core range`);
  assert.equal(pkg.version, before[dir], `${pkg.name} is not bumped by a core patch`);
  console.log(`${pkg.name} ${pkg.version}: @batchnorm/core ${pkg.dependencies['@batchnorm/core']}`);
}
console.log(`${core.name} ${process.argv[2]} -> ${core.version}`);
CHECK
git diff --stat | tail -n 1

# A minor bump of a 0.x core leaves ^0.1.x: changesets must bump every dependent (patch).
cat > .changeset/sample-core-feature.md <<'CHANGESET'
---
'@batchnorm/core': minor
---

Sample feature (changeset dry run).
CHANGESET
node "$root/node_modules/@changesets/cli/bin.js" version >/dev/null
node - "$dependents_before" <<'CHECK'
const fs = require('node:fs');
const assert = require('node:assert/strict');
const read = (dir) => JSON.parse(fs.readFileSync(`${dir}/package.json`, 'utf8'));
const before = JSON.parse(process.argv[2]);
const core = read('packages/core');
assert.match(core.version, /^0\.\d+\.0$/, 'core gets the minor bump');
for (const [dir, version] of Object.entries(before)) {
  const pkg = read(dir);
  const [major, minor, patch] = version.split('.').map(Number);
  assert.equal(pkg.version, `${major}.${minor}.${patch + 1}`, `${pkg.name} gets a patch bump`);
  assert.equal(pkg.dependencies['@batchnorm/core'], 'workspace:^', `${pkg.name}'s core range`);
  assert.match(fs.readFileSync(`${dir}/CHANGELOG.md`, 'utf8'), new RegExp(`@batchnorm/core@${core.version}`));
  console.log(`${pkg.name} ${version} -> ${pkg.version} (depends on @batchnorm/core ${core.version})`);
}
CHECK

cd "$root"
after=$(git status --porcelain --untracked-files=no)
if [[ "$before" != "$after" ]]; then
  echo 'error: the changeset dry run changed the working tree' >&2
  exit 1
fi
echo 'changeset dry run passed; tree unchanged'

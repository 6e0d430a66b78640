#!/usr/bin/env node
// Keeps the root package.json's dependencies in step with core's one list of backends
// (KNOWN_BACKENDS): the root depends on every backend package (`workspace:^`), which links each
// one into the root node_modules, where the conformance CLI, the MNIST app and the bench import
// them from. No other package.json lists the backends.
//
//   node scripts/sync-backends.mjs           check: exit 1 naming each missing dependency
//   node scripts/sync-backends.mjs --write   add what is missing, then run pnpm install
//   node scripts/sync-backends.mjs --root DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendListError, backendPackages } from './backends.mjs';

const RANGE = 'workspace:^';

/** What the root package.json lacks: `[{ packageName, name, found }]` (found: its range, or undefined). */
async function missingRootDependencies(root) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const declared = { ...manifest.dependencies, ...manifest.devDependencies };
  return (await backendPackages(root))
    .filter(({ packageName }) => declared[packageName] !== RANGE)
    .map(({ name, packageName }) => ({ name, packageName, found: declared[packageName] }));
}

async function main(argv) {
  const write = argv.includes('--write');
  const rootIndex = argv.indexOf('--root');
  const root = rootIndex === -1 ? fileURLToPath(new URL('..', import.meta.url)) : resolve(argv[rootIndex + 1] ?? '.');
  const missing = await missingRootDependencies(root);
  if (missing.length === 0) {
    process.stdout.write('sync-backends: the root package.json depends on every backend of KNOWN_BACKENDS\n');
    return 0;
  }
  const file = join(root, 'package.json');
  if (!write) {
    for (const { name, packageName, found } of missing) {
      process.stderr.write(
        `error: ${file} does not depend on ${packageName} (backend "${name}" of KNOWN_BACKENDS): ` +
          `expected "devDependencies": { "${packageName}": "${RANGE}" }, found ${found === undefined ? 'nothing' : JSON.stringify(found)}\n`,
      );
    }
    process.stderr.write('Fix: node scripts/sync-backends.mjs --write && pnpm install\n');
    return 1;
  }
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  const devDependencies = { ...manifest.devDependencies };
  for (const { packageName } of missing) {
    if (manifest.dependencies?.[packageName] !== undefined) delete manifest.dependencies[packageName];
    devDependencies[packageName] = RANGE;
  }
  manifest.devDependencies = Object.fromEntries(Object.entries(devDependencies).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`sync-backends: added ${missing.map((m) => m.packageName).join(', ')} to ${file}; now run pnpm install\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`sync-backends: ${error instanceof BackendListError ? error.message : (error?.stack ?? error)}\n`);
    process.exitCode = 1;
  },
);

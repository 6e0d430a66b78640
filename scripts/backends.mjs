#!/usr/bin/env node
// This repository's backend packages, from core's one list (KNOWN_BACKENDS in
// packages/core/src/knownBackends.ts), each with its workspace directory:
//
//   node scripts/backends.mjs                 js @batchnorm/backend-js packages/backend-js (one a line)
//   node scripts/backends.mjs --field dir     packages/backend-js (one column: name, package or dir)
//   node scripts/backends.mjs --json          [{ "name", "packageName", "dir" }, …]
//   node scripts/backends.mjs --root DIR      the list and workspace of another checkout
//
// The scripts take their backend lists from here, so no script names a backend. It reads the
// TypeScript source (transpiled with the root's typescript), so nothing has to be built first.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class BackendListError extends Error {}

/** `KNOWN_BACKENDS` of the checkout at `root`: `[{ name, packageName }]`. */
export async function knownBackends(root = here) {
  const file = join(root, 'packages/core/src/knownBackends.ts');
  const source = readFileSync(file, 'utf8');
  // Evaluated on its own (from a data: URL): the list must not import anything.
  if (/^\s*import\s(?!type\b)/m.test(source)) {
    throw new BackendListError(`${file} imports a module; the one list must stay self-contained`);
  }
  const ts = createRequire(join(here, 'package.json'))('typescript');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const { KNOWN_BACKENDS } = await import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
  if (!Array.isArray(KNOWN_BACKENDS)) throw new BackendListError(`${file} exports no KNOWN_BACKENDS array`);
  return KNOWN_BACKENDS.map(({ name, packageName }) => ({ name, packageName }));
}

/** Every workspace package of the checkout at `root`: `Map<packageName, { dir, manifest }>`. */
export function workspacePackages(root = here) {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\s*\n((?:\s+-\s+.*\n?)+)/m.exec(yaml);
  if (block === null) throw new BackendListError(`${join(root, 'pnpm-workspace.yaml')} has no packages: list`);
  const patterns = block[1].split('\n').map((l) => l.replace(/^\s+-\s+/, '').replace(/['"]/g, '').trim()).filter(Boolean);
  const dirs = patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = join(root, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(pattern.slice(0, -2), entry.name));
  });
  const packages = new Map();
  for (const dir of dirs) {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    packages.set(manifest.name, { dir, manifest });
  }
  return packages;
}

/** `KNOWN_BACKENDS` with each package's workspace directory (relative to `root`). */
export async function backendPackages(root = here) {
  const workspace = workspacePackages(root);
  return (await knownBackends(root)).map(({ name, packageName }) => {
    const found = workspace.get(packageName);
    if (found === undefined) {
      throw new BackendListError(
        `KNOWN_BACKENDS names ${packageName} (backend "${name}"), but no workspace package is called that ` +
          `(packages/*/package.json "name")`,
      );
    }
    return { name, packageName, dir: found.dir };
  });
}

async function main(argv) {
  let root = here;
  let field;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--root') root = resolve(argv[++i] ?? '.');
    else if (arg === '--field') field = argv[++i];
    else if (arg === '--json') json = true;
    else throw new BackendListError(`unknown argument ${JSON.stringify(arg)} (--field name|package|dir, --json, --root DIR)`);
  }
  const columns = { name: 'name', package: 'packageName', dir: 'dir' };
  if (field !== undefined && !(field in columns)) throw new BackendListError(`--field: expected name, package or dir, got ${JSON.stringify(field)}`);
  const backends = await backendPackages(root);
  if (json) process.stdout.write(`${JSON.stringify(backends, null, 2)}\n`);
  else if (field !== undefined) process.stdout.write(backends.map((b) => `${b[columns[field]]}\n`).join(''));
  else process.stdout.write(backends.map((b) => `${b.name} ${b.packageName} ${b.dir}\n`).join(''));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`backends: ${error instanceof BackendListError ? error.message : (error?.stack ?? error)}\n`);
    process.exitCode = 1;
  });
}

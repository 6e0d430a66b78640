import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = path.dirname(fileURLToPath(import.meta.url));
const nodeBuiltins = new Set(builtinModules);

/** Every module specifier a file imports or re-exports statically or dynamically. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s*'([^']+)'/g)].map(
    (m) => (m[1] ?? m[2] ?? m[3])!,
  );
}

/** The Node built-ins reachable from `entry` through this package's own modules. */
function nodeImportsFrom(entry: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (spec.startsWith('node:') || nodeBuiltins.has(spec.split('/')[0]!)) found.push(`${path.basename(file)}: ${spec}`);
    }
  };
  visit(entry);
  return found;
}

describe('entries', () => {
  it('the main entry reaches no Node built-in (it bundles for a browser with no shims)', () => {
    expect(nodeImportsFrom(path.join(srcDir, 'index.ts'))).toEqual([]);
  });

  it('the ./testing entry reaches no Node built-in either (a browser test of a backend uses it)', () => {
    expect(nodeImportsFrom(path.join(srcDir, 'testing.ts'))).toEqual([]);
  });

  it('the ./node entry is where the file reading is (the walk sees Node imports)', () => {
    expect(nodeImportsFrom(path.join(srcDir, 'node.ts'))).toContain('node.ts: node:fs/promises');
  });
});

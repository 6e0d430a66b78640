import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// consumer/consumer.ts is a user's file: compiled (strict, skipLibCheck off) against the built
// packages' declarations by the oldest TypeScript we support and by the repository's own, under
// node16 and bundler resolution. Its @ts-expect-error lines are the options the types refuse.

const here = path.dirname(fileURLToPath(import.meta.url));
const toolDir = path.resolve(here, '..');
const consumerDir = path.join(toolDir, 'consumer');
const repositoryRoot = path.resolve(toolDir, '..', '..');
const require = createRequire(import.meta.url);

const compilers = {
  oldest: require.resolve('typescript-oldest/bin/tsc'),
  repository: createRequire(path.join(repositoryRoot, 'package.json')).resolve('typescript/bin/tsc'),
} as const;
const configs = ['node16', 'bundler'] as const;

function tsc(compiler: string, ...args: string[]): { status: number | null; output: string } {
  const child = spawnSync(process.execPath, [compiler, ...args], { cwd: consumerDir, encoding: 'utf8', timeout: 170_000 });
  return { status: child.status, output: `${child.stdout}${child.stderr}` };
}

/** The declaration files a compilation loads, from `--listFilesOnly`. */
function filesOf(compiler: string, project: string): string[] {
  const { status, output } = tsc(compiler, '-p', project, '--listFilesOnly');
  expect(status, output).toBe(0);
  return output.split('\n').filter((line) => line.trim() !== '');
}

const THIRD_PARTY = /[/\\]node_modules[/\\](?:\.pnpm[/\\][^/\\]+[/\\]node_modules[/\\])?(@tensorflow[/\\]|gpu\.js[/\\])/;

describe('a consumer project, strict, skipLibCheck off', () => {
  it('the oldest compiler is TypeScript 5.7, the minimum the READMEs state', () => {
    expect(tsc(compilers.oldest, '--version').output.trim()).toBe('Version 5.7.3');
    expect(tsc(compilers.repository, '--version').output.trim()).toMatch(/^Version 5\.9\./);
    for (const readme of ['README.md', 'packages/backend-gpujs/README.md', 'packages/backend-tfjs-node/README.md']) {
      expect(readFileSync(path.join(repositoryRoot, readme), 'utf8'), readme).toMatch(/TypeScript 5\.7 or newer/);
    }
  });

  for (const [name, compiler] of Object.entries(compilers)) {
    for (const config of configs) {
      it(`compiles with no error: ${name} TypeScript, ${config} resolution (the refused options are refused)`, () => {
        const { status, output } = tsc(compiler, '-p', `tsconfig.${config}.json`);
        expect(output).toBe('');
        expect(status).toBe(0);
      });
    }
  }

  it("loads every package's declarations and none of TensorFlow's or gpu.js's", () => {
    for (const config of configs) {
      const files = filesOf(compilers.oldest, `tsconfig.${config}.json`);
      for (const dir of ['core', 'backend-js', 'backend-gpujs', 'backend-tfjs-node', 'backend-webgpu', 'conformance', 'interop']) {
        expect(files, dir).toContain(path.join(repositoryRoot, 'packages', dir, 'dist', 'index.d.ts'));
      }
      expect(files.filter((file) => THIRD_PARTY.test(file)), config).toEqual([]);
    }
  });

  it('(control) the check sees them when a declaration file names them', () => {
    // the packages' internal modules name tfjs-node's and gpu.js's types; the public entries do not
    const files = filesOf(compilers.oldest, 'tsconfig.control.json');
    expect(files.some((file) => /@tensorflow[/\\]tfjs-node[/\\]/.test(file) && THIRD_PARTY.test(file))).toBe(true);
    expect(files.some((file) => /gpu\.js[/\\]/.test(file) && THIRD_PARTY.test(file))).toBe(true);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_BACKENDS, knownBackendNames } from '@batchnorm/core';
import { afterAll, describe, expect, it } from 'vitest';

/** The CLI as users run it: the built dist/cli.js in a child process (turbo builds before test). */
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(packageDir, 'dist', 'cli.js');

function repositoryRoot(): string {
  let dir = packageDir;
  while (!existsSync(path.join(dir, 'pnpm-workspace.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${packageDir}`);
    dir = parent;
  }
  return dir;
}

/** `shared/` sits beside the clone: ../shared relative to the repository root. */
function sharedVectors(): string {
  const file = path.join(repositoryRoot(), '..', 'shared', 'vectors', 'pytorch-onnxruntime-sample.json');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: the PyTorch/ONNX Runtime vectors are expected in ../shared/vectors/ beside the repository clone`);
  }
  return file;
}

const work = mkdtempSync(path.join(tmpdir(), 'batchnorm-conformance-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(
  args: string[],
  cwd = work,
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (pnpm --filter @batchnorm/conformance build)`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function vectorFile(name: string, cases: unknown[]): string {
  const file = path.join(work, name);
  writeFileSync(file, JSON.stringify({ schema: 'batchnorm-vectors/1', cases }));
  return file;
}

const s = 1 / Math.sqrt(1 + 1e-5);
const inferenceCase = {
  name: 'tiny_inference',
  op: 'forwardInference',
  layout: 'NC',
  shape: [2, 2],
  epsilon: 1e-5,
  inputs: { x: [1, 2, 3, 4], gamma: [1, 2], beta: [0, 1], runningMean: [2, 3], runningVar: [1, 1] },
  // y = γ(x − mean)/√(var + ε) + β, feature 0 is x[0], x[2] and feature 1 is x[1], x[3]
  expected: { y: [-s, 1 - 2 * s, s, 1 + 2 * s] },
  tolerance: { atol: 1e-6, rtol: 1e-6 },
};

// each child process takes 1–2 s on a busy 2-core machine
describe('batchnorm-conformance CLI', { timeout: 60_000 }, () => {
  it('--help prints the usage, listing the backends of core\'s one list, and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--vectors FILE');
    expect(r.stdout).toContain(`--backend NAME     ${knownBackendNames().join(', ')}, a comma list`);
  });

  it('exits 2 on usage errors; an unknown backend is answered with the known ones', () => {
    const unknown = run(['--backend', 'nosuch']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`batchnorm-conformance: error: unknown backend "nosuch": expected one of ${[...knownBackendNames(), 'all'].join(', ')}`);
    expect(run(['--grid', 'huge']).status).toBe(2);
    // the form every batchnorm CLI shares (docs/cli.md)
    expect(run(['--frobnicate']).stderr).toBe(
      "batchnorm-conformance: error: unknown option \"--frobnicate\"\nUsage: batchnorm-conformance [options]\nRun 'batchnorm-conformance --help' for the options.\n",
    );
    expect(run(['--frobnicate']).status).toBe(2);
    expect(run(['--vectors', path.join(work, 'missing.json')]).status).toBe(2);
    // Backends reject unknown option keys, so a mode belongs to exactly one backend.
    const modeForAll = run(['--mode', 'cpu', '--backend', 'all']);
    expect(modeForAll.status).toBe(2);
    expect(modeForAll.stderr).toContain('--mode applies to one backend');
    expect(run(['--mode', 'cpu', '--backend', 'reference,js']).status).toBe(2);
  });

  it('(e) a malformed vector file exits 2, naming the case and the field', () => {
    const bad = { ...inferenceCase, name: 'short_x', inputs: { ...inferenceCase.inputs, x: [1, 2, 3] } };
    const file = vectorFile('malformed.json', [inferenceCase, bad]);
    const r = run(['--vectors', file, '--backend', 'reference', '--json']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('cases[1] "short_x": inputs.x has 3 values, expected 4 for shape [2,2]');
  });

  it('(f) --json prints exactly one parseable JSON document on stdout', () => {
    const file = vectorFile('good.json', [inferenceCase]);
    const r = run(['--vectors', file, '--backend', 'reference', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as { passed: number; failed: number; results: unknown[]; backends: { name: string; details?: object }[] };
    expect(doc).toMatchObject({ passed: 1, failed: 0 });
    expect(doc.results).toEqual([
      expect.objectContaining({ backend: 'reference', case: 'tiny_inference', pass: true, maxAbsError: expect.any(Number), maxRelError: expect.any(Number) }),
    ]);
    expect(doc.backends).toEqual([{ name: 'reference', packageName: '@batchnorm/core', profile: 'float64', details: { precision: 'float64' } }]);
  });

  it('--json on the built-in grid and checks: one document, every result passing on the reference', () => {
    const r = run(['--backend', 'reference', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { passed: number; failed: number; results: { case: string; op: string }[] };
    expect(doc.failed).toBe(0);
    expect(doc.passed).toBe(doc.results.length);
    const ops = new Set(doc.results.map((x) => x.op));
    for (const op of ['forwardTraining', 'backward', 'matMul', 'runningStats', 'gradientCheck', 'errorCheck']) expect(ops).toContain(op);
    const layouts = new Set(doc.results.map((x) => (x as { layout?: string }).layout));
    for (const layout of ['NC', 'NCL', 'NLC', 'NCHW', 'NHWC', 'NCDHW', 'NDHWC']) expect(layouts).toContain(layout);
  }, 120_000);

  it('exits 1 when a case fails, and says which', () => {
    const wrong = { ...inferenceCase, name: 'wrong_expectation', expected: { y: [0, 0, 0, 0] } };
    const r = run(['--vectors', vectorFile('wrong.json', [wrong]), '--backend', 'reference']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/wrong_expectation\s+FAIL/);
    expect(r.stdout).toContain('Summary: 0 passed, 1 failed on reference');
  });

  it('(g) the PyTorch / ONNX Runtime vectors pass on the reference', () => {
    const r = run(['--vectors', sharedVectors(), '--backend', 'reference', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { passed: number; failed: number };
    expect(doc).toEqual(expect.objectContaining({ passed: 4, failed: 0 }));
  });

  it('--report writes a Markdown table atomically (no temporary file left)', () => {
    const dir = mkdtempSync(path.join(work, 'report-'));
    const report = path.join(dir, 'conformance.md');
    const r = run(['--vectors', vectorFile('report.json', [inferenceCase]), '--backend', 'reference', '--report', report]);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(report, 'utf8');
    expect(text).toContain('| case | reference |');
    expect(text).toMatch(/\| `tiny_inference` \| pass /);
    expect(readdirSync(dir)).toEqual(['conformance.md']);
  });

  it('--backend all runs the reference and notes, by package, the backends that are not installed', () => {
    const r = run(['--vectors', vectorFile('all.json', [inferenceCase]), '--backend', 'all', '--json']);
    expect([0, 1]).toContain(r.status);
    const doc = JSON.parse(r.stdout) as { backends: { name: string; packageName: string; skipped?: string }[] };
    expect(doc.backends.map((b) => b.name)).toEqual(knownBackendNames());
    expect(doc.backends[0]).toEqual({ name: 'reference', packageName: '@batchnorm/core', profile: 'float64', details: { precision: 'float64' } });
    for (const b of doc.backends) {
      if (b.skipped !== undefined) {
        expect(b.skipped).toBe(`not installed (${b.packageName})`);
        expect(r.stderr).toContain(`backend ${b.name} skipped: ${b.packageName} is not installed`);
      }
    }
  });
});

/** What a stack trace or an unhandled error looks like on stderr. */
const STACK = /RangeError|TypeError|EPIPE|\n\s+at /;

/** Spawns the CLI, closes the read end of its stdout at once (as `| head` does), collects stderr and the exit. */
function runWithClosedStdout(
  args: string[],
  cliPath = cli,
  cwd = work,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

describe('batchnorm-conformance CLI on hostile and careless input (issue 13)', { timeout: 60_000 }, () => {
  it('(10) a vector file nested 10⁵ levels deep exits 2 with the usual message, no stack trace', () => {
    const depth = 100_000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    for (const [name, text, message] of [
      ['deep-cases.json', `{"schema":"batchnorm-vectors/1","cases":${deep}}`, 'cases[0]: case must be an object, got [[[[…'],
      ['deep-file.json', deep, 'a vector file must be a JSON object, got [[[[…'],
      ['deep-input.json', JSON.stringify({ schema: 'batchnorm-vectors/1', cases: [{ ...inferenceCase, inputs: { ...inferenceCase.inputs, x: 0 } }] }).replace('"x":0', `"x":${deep}`), 'inputs.x has 1 values, expected 4'],
    ] as const) {
      const file = path.join(work, name);
      writeFileSync(file, text);
      const r = run(['--vectors', file, '--backend', 'reference']);
      expect(r.status, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`batchnorm-conformance: error: malformed vector file: ${file}: `);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(STACK);
    }
  });

  it('(11) --report escapes case names: no injected rows or cells, no escape bytes', () => {
    const names = ['pipe | in | name', 'tick`s and ``runs``', 'new\nrow | x | y |', 'esc\u001b[31mred\u001b[0m', 'bidi\u202eevil', 'back\\slash\\|', 'cr\r\n|---|---|', '`leading'];
    const cases = names.map((name) => ({ ...inferenceCase, name }));
    const dir = mkdtempSync(path.join(work, 'hostile-'));
    const report = path.join(dir, 'report.md');
    const r = run(['--vectors', vectorFile('hostile.json', cases), '--backend', 'reference', '--report', report]);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(report, 'utf8');
    // nothing but printable text and newlines
    expect(text.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Bidi_Control}]/u);
    // every row of the case table has exactly two cells (case, reference): unescaped | are cell borders
    const rows = text.split('\n').filter((line) => line.startsWith('| '));
    const caseRows = rows.slice(rows.indexOf('| case | reference |') + 1);
    expect(caseRows).toHaveLength(names.length);
    for (const row of caseRows) expect(row.replaceAll('\\|', '').split('|'), row).toHaveLength(4);
    expect(caseRows[0]).toMatch(/^\| `pipe \\\| in \\\| name` \| pass /);
    expect(caseRows[2]).toMatch(/^\| `new\\nrow \\\| x \\\| y \\\|` \| pass /);
    expect(caseRows[3]).toMatch(/^\| `esc\\u001b\[31mred\\u001b\[0m` \| pass /);
    // a name with backticks gets a longer fence, so it stays one code span
    expect(caseRows[1]).toMatch(/^\| ``` tick`s and ``runs`` ``` \| pass /);
    // the terminal table gets no escape bytes either
    expect(r.stdout.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Bidi_Control}]/u);
  });

  describe('(12) output paths are checked before the run: exit 2, nothing written, no .tmp', () => {
    const expectRefusedUpFront = (args: string[], message: string, options: { uid?: number } = {}): void => {
      const result = spawnSync(process.execPath, [cli, '--backend', 'reference', '--json', ...args], {
        cwd: work,
        encoding: 'utf8',
        timeout: 60_000,
        ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
      });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain('running');
      expect(result.stderr).not.toMatch(STACK);
      expect(result.stdout).toBe('');
    };

    it('a --report path whose parent is a file', () => {
      const file = path.join(work, 'a-file');
      writeFileSync(file, 'keep');
      expectRefusedUpFront(['--report', path.join(file, 'report.md')], `batchnorm-conformance: error: --report ${path.join(file, 'report.md')}: ${file} is not a directory`);
      expectRefusedUpFront(['--report', path.join(file, 'deeper', 'report.md')], `${file} is not a directory`);
      expect(readFileSync(file, 'utf8')).toBe('keep');
    });

    it('a --report path that is a directory', () => {
      const dir = mkdtempSync(path.join(work, 'is-a-dir-'));
      writeFileSync(path.join(dir, 'inside'), '');
      expectRefusedUpFront(['--report', dir], `batchnorm-conformance: error: --report ${dir}: is a directory`);
      expect(readdirSync(dir)).toEqual(['inside']);
      expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('a --report path in a directory the user may not write in', () => {
      // root may write anywhere: run the CLI as nobody then (a directory it can reach but not write)
      const asRoot = process.getuid?.() === 0;
      const outer = mkdtempSync(path.join(tmpdir(), 'batchnorm-conformance-readonly-'));
      chmodSync(outer, 0o755);
      const readOnly = path.join(outer, 'read-only');
      mkdirSync(readOnly, { mode: 0o555 });
      chmodSync(readOnly, 0o555);
      try {
        expectRefusedUpFront(['--report', path.join(readOnly, 'report.md')], `${readOnly} is not writable`, asRoot ? { uid: 65534 } : {});
        expect(readdirSync(readOnly)).toEqual([]);
      } finally {
        rmSync(outer, { recursive: true, force: true });
      }
    });
  });

  describe('(13) a run that checked nothing exits 3 and says so', () => {
    it('an empty cases array', () => {
      const file = vectorFile('empty.json', []);
      const r = run(['--vectors', file, '--backend', 'reference']);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain(`batchnorm-conformance: error: nothing was checked: ${file} holds no cases`);
    });

    it('a --skip that skips every case, of a file or of the built-in grid and checks', () => {
      const file = vectorFile('skipped.json', [inferenceCase, { ...inferenceCase, name: 'other' }]);
      const r = run(['--vectors', file, '--backend', 'reference', '--skip', 'tiny_*', '--skip', 'other', '--json']);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain('batchnorm-conformance: error: nothing was checked: --skip skipped all 2 cases');
      expect(JSON.parse(r.stdout)).toMatchObject({ passed: 0, failed: 0 });
      const grid = run(['--backend', 'reference', '--skip', '*']);
      expect(grid.status, grid.stderr).toBe(3);
      expect(grid.stderr).toMatch(/nothing was checked: --skip skipped all \d+ cases/);
      // one case left is a run
      expect(run(['--vectors', file, '--backend', 'reference', '--skip', 'other']).status).toBe(0);
    });
  });

  describe('(14) a stdout closed early (| head) ends the CLI quietly', () => {
    it('--json: the run\'s own exit status, no EPIPE stack', async () => {
      const r = await runWithClosedStdout(['--vectors', vectorFile('pipe.json', [inferenceCase]), '--backend', 'reference', '--json']);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toContain('batchnorm-conformance:');
      expect(r).toMatchObject({ status: 0, signal: null });
    });

    it('the human tables: no EPIPE stack', async () => {
      const wrong = { ...inferenceCase, name: 'wrong', expected: { y: [0, 0, 0, 0] } };
      const r = await runWithClosedStdout(['--vectors', vectorFile('pipe-fail.json', [wrong]), '--backend', 'reference']);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
    });
  });

  describe('(15) SIGTERM stops the run with status 143 and stops the backends\' child processes', () => {
    it('a run of two backends, one in a child process', async () => {
      // js's full grid runs long enough in its child process to be stopped in the middle
      const parent = spawn(process.execPath, [cli, '--backend', 'js,reference', '--grid', 'full', '--json'], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      parent.stderr.setEncoding('utf8');
      const childRunning = new Promise<void>((resolve) =>
        parent.stderr.on('data', (chunk: string) => {
          stderr += chunk;
          if (stderr.includes('on js')) resolve();
        }),
      );
      const closed = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => parent.on('close', (status, signal) => resolve({ status, signal })));
      await childRunning;
      const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(parent.pid)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((pid) => pid > 0);
      expect(children.length, stderr).toBe(1);
      parent.kill('SIGTERM');
      expect(await closed).toEqual({ status: 143, signal: null });
      // gone, or a zombie nobody reaps (its parent has exited): no longer running, either way
      const running = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      for (let i = 0; i < 100 && running(children[0]!); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running(children[0]!)).toBe(false);
      expect(stderr).not.toMatch(STACK);
    }, 180_000); // the reference's full grid runs first, in this process: 30 s on a busy machine
  });
});

/**
 * A user's project as npm would lay it out: this package (its package.json and dist, copied),
 * its dependencies core and interop (linked), and stand-ins for the first two packages of
 * KNOWN_BACKENDS, each wrapping core's reference; the third is not installed. The CLI runs from
 * there, as `npx batchnorm-conformance` would, so nothing of the workspace is found by accident.
 */
describe('batchnorm-conformance CLI in a project with backend packages installed', { timeout: 60_000 }, () => {
  const project = mkdtempSync(path.join(work, 'project-'));
  const modules = path.join(project, 'node_modules');
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'project', private: true, type: 'module' }));
  const installed = path.join(modules, '@batchnorm', 'conformance');
  mkdirSync(installed, { recursive: true });
  cpSync(path.join(packageDir, 'package.json'), path.join(installed, 'package.json'));
  cpSync(path.join(packageDir, 'dist'), path.join(installed, 'dist'), { recursive: true });
  symlinkSync(path.join(packageDir, '..', 'core'), path.join(modules, '@batchnorm', 'core'), 'dir');
  // this package's other dependency (--onnx-test reads ONNX files with it)
  symlinkSync(path.join(packageDir, '..', 'interop'), path.join(modules, '@batchnorm', 'interop'), 'dir');
  // and its third-party one (the vector-file schema's validator)
  symlinkSync(path.join(packageDir, 'node_modules', 'valibot'), path.join(modules, 'valibot'), 'dir');
  const installedCli = path.join(installed, 'dist', 'cli.js');

  /** Installs a stand-in package for `entry` whose backendModule has `traits` and `createBackend`. */
  function install(entry: { name: string; packageName: string }, traits: object, createBackend: string): void {
    const dir = path.join(modules, ...entry.packageName.split('/'));
    mkdirSync(dir, { recursive: true });
    // exports without ./package.json, as many packages have
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: entry.packageName, type: 'module', exports: { '.': { import: './index.js' } } }));
    writeFileSync(
      path.join(dir, 'index.js'),
      `import { asyncOnly, createReferenceBackend } from '@batchnorm/core';\n` +
        `export const backendModule = { name: ${JSON.stringify(entry.name)}, packageName: ${JSON.stringify(entry.packageName)}, ` +
        `description: 'a stand-in', traits: ${JSON.stringify(traits)}, createBackend: ${createBackend} };\n`,
    );
  }

  function runInProject(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [installedCli, ...args], { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  const [healthy, crashing, missing] = KNOWN_BACKENDS;
  // reads asynchronously only; a float64 backend that asks for the float32 profile, and a display
  install(
    healthy,
    { residence: 'host', tolerance: 'float32', requires: ['display'], environments: ['node'] },
    `() => ({ ...asyncOnly(createReferenceBackend()), name: ${JSON.stringify(healthy.name)} })`,
  );
  // dies the way a native engine does
  install(
    crashing,
    { residence: 'device', tolerance: 'float32', requires: ['native-binding'], environments: ['node'] },
    `() => process.kill(process.pid, 'SIGSEGV')`,
  );
  const noDisplay = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DISPLAY'));

  it('--backend all runs each backend in its own process: a crash costs its own results only', () => {
    const r = runInProject(['--vectors', vectorFile('installed.json', [inferenceCase]), '--backend', 'all', '--json'], noDisplay);
    expect(r.status, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      passed: number;
      results: { backend: string; case: string; pass: boolean; message?: string }[];
      backends: { name: string; packageName: string; profile?: string; details?: object; skipped?: string; error?: string }[];
    };
    expect(doc.backends.map((b) => b.name)).toEqual(knownBackendNames());
    expect(doc.backends.find((b) => b.name === healthy.name)).toEqual({
      name: healthy.name,
      packageName: healthy.packageName,
      profile: 'float32',
      details: { precision: 'float64', reads: 'async-only' },
    });
    expect(doc.results.filter((x) => x.case === 'tiny_inference').map((x) => [x.backend, x.pass])).toEqual([
      ['reference', true],
      [healthy.name, true],
    ]);
    const crashed = doc.backends.find((b) => b.name === crashing.name)!;
    expect(crashed.error).toMatch(/its process crashed \(signal SIGSEGV\)/);
    expect(doc.backends.find((b) => b.name === missing.name)).toEqual({
      name: missing.name,
      packageName: missing.packageName,
      skipped: `not installed (${missing.packageName})`,
    });
  });

  it('says when a backend needs a display and there is none, and how to fix it', () => {
    const r = runInProject(['--vectors', vectorFile('display.json', [inferenceCase]), '--backend', healthy.name], noDisplay);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`backend ${healthy.name} needs a display (traits.requires: display) and DISPLAY is not set`);
    expect(r.stderr).toContain(`xvfb-run -a npx batchnorm-conformance --backend ${healthy.name}`);
    const withDisplay = runInProject(['--vectors', vectorFile('display.json', [inferenceCase]), '--backend', healthy.name], { ...noDisplay, DISPLAY: ':99' });
    expect(withDisplay.stderr).not.toContain('needs a display');
  });

  it('judges each backend with its manifest\'s tolerance profile', () => {
    // y off by 1e-9: outside float64's tolerance, inside float32's
    const nearly = { ...inferenceCase, name: 'nearly', expected: { y: inferenceCase.expected.y.map((v) => v + 1e-9) } };
    const { tolerance: _, ...derived } = nearly;
    const r = runInProject(['--vectors', vectorFile('profile.json', [derived]), '--backend', `reference,${healthy.name}`, '--json'], noDisplay);
    const doc = JSON.parse(r.stdout) as { results: { backend: string; pass: boolean }[] };
    expect(doc.results.map((x) => [x.backend, x.pass])).toEqual([
      ['reference', false],
      [healthy.name, true],
    ]);
  });

  it('(13) backends in child processes that checked nothing: exit 3, none reported as crashed', () => {
    const r = runInProject(['--vectors', vectorFile('all-skipped.json', [inferenceCase]), '--backend', `reference,${healthy.name}`, '--skip', '*', '--json'], noDisplay);
    expect(r.status, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout) as { passed: number; failed: number; backends: { name: string; error?: string }[] };
    expect(doc).toMatchObject({ passed: 0, failed: 0 });
    expect(doc.backends.map((b) => [b.name, b.error])).toEqual([
      ['reference', undefined],
      [healthy.name, undefined],
    ]);
    expect(r.stderr).toContain('nothing was checked: --skip skipped all 1 cases');
  });

  it('(14) a stdout closed before the run ends stops it: exit 141, the next backend\'s process stopped', async () => {
    const r = await runWithClosedStdout(['--vectors', vectorFile('closed.json', [inferenceCase]), '--backend', `reference,${healthy.name}`], installedCli, project);
    expect(r.stderr).not.toMatch(STACK);
    // the reference's table met the closed pipe; the next backend's child was stopped before it ran
    expect(r.stderr).toContain('running 1 vector cases on reference');
    expect(r.stderr).not.toContain(`on ${healthy.name}`);
    expect(r).toMatchObject({ status: 141, signal: null });
  });
});

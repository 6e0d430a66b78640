import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

function run(args: string[], cwd = work): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (pnpm --filter @batchnorm/conformance build)`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
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
  it('--help prints the usage and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--vectors FILE');
  });

  it('exits 2 on usage errors', () => {
    expect(run(['--backend', 'nosuch']).status).toBe(2);
    expect(run(['--grid', 'huge']).status).toBe(2);
    expect(run(['--frobnicate']).status).toBe(2);
    expect(run(['--vectors', path.join(work, 'missing.json')]).status).toBe(2);
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
    expect(doc.backends).toEqual([{ name: 'reference', details: { precision: 'float64' } }]);
  });

  it('--json on the built-in grid and checks: one document, every result passing on the reference', () => {
    const r = run(['--backend', 'reference', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { passed: number; failed: number; results: { case: string; op: string }[] };
    expect(doc.failed).toBe(0);
    expect(doc.passed).toBe(doc.results.length);
    const ops = new Set(doc.results.map((x) => x.op));
    for (const op of ['forwardTraining', 'backward', 'matMul', 'runningStats', 'gradientCheck', 'errorCheck']) expect(ops).toContain(op);
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

  it('--backend all runs the reference and notes backends that are not installed', () => {
    const r = run(['--vectors', vectorFile('all.json', [inferenceCase]), '--backend', 'all', '--json']);
    expect([0, 1]).toContain(r.status);
    const doc = JSON.parse(r.stdout) as { backends: { name: string; details?: object; skipped?: string; error?: string }[] };
    expect(doc.backends.map((b) => b.name)).toEqual(['reference', 'js', 'tfjs-node', 'gpujs']);
    expect(doc.backends[0]).toEqual({ name: 'reference', details: { precision: 'float64' } });
    for (const b of doc.backends) {
      if (b.skipped !== undefined) expect(r.stderr).toContain(`backend ${b.name} skipped`);
    }
  });
});

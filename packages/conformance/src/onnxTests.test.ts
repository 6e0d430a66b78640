import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_BACKENDS } from '@batchnorm/core';
import { decodeOnnxModel, decodeOnnxTensor, encodeOnnxModel, encodeOnnxTensor, type OnnxCaseResult } from '@batchnorm/interop';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { loadOnnxTestCases, onnxTestDirectories, OnnxTestInputError } from './onnxTests.js';
import type { CaseResult } from './types.js';

/** `--onnx-test` as users run it: the built dist/cli.js in a child process (turbo builds before test). */
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(packageDir, 'dist', 'cli.js');
/** The ONNX backend tests @batchnorm/interop ships in the repository (not published). */
const ONNX_TESTS = path.join(packageDir, '..', 'interop', 'fixtures', 'onnx-tests');
const TESTS = readdirSync(ONNX_TESTS).filter((d) => d.startsWith('test_')).sort();
/** One case per data set: test_ort_batchnorm_training_NC_opset15 has two. */
const CASES = TESTS.flatMap((t) => readdirSync(path.join(ONNX_TESTS, t)).filter((d) => d.startsWith('test_data_set_')).map((d) => `${t}/${d}`));

const work = mkdtempSync(path.join(tmpdir(), 'batchnorm-conformance-onnx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], cwd = work): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (pnpm --filter @batchnorm/conformance build)`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Doc {
  passed: number;
  failed: number;
  results: { backend: string; case: string; op: string; pass: boolean; message?: string }[];
  backends: { name: string; packageName: string; profile?: string; error?: string }[];
}

/** A copy of one shipped test, to break. */
function copyOf(test: string, as: string): string {
  const target = path.join(work, as);
  cpSync(path.join(ONNX_TESTS, test), target, { recursive: true });
  return target;
}

/** What a stack trace or an unhandled error looks like on stderr. */
const STACK = /RangeError|TypeError|\n\s+at /;

// interop's layer runner gives this package's result shape; it declares its own copy because it
// cannot import this package (which imports interop): the typecheck keeps the two in step
it("interop's OnnxCaseResult is a CaseResult", () => {
  expectTypeOf<OnnxCaseResult>().toExtend<CaseResult>();
});

describe('onnxTestDirectories / loadOnnxTestCases', () => {
  it('a directory with model.onnx is one test; a folder of them is each, sorted, once', () => {
    const one = path.join(ONNX_TESTS, 'test_BatchNorm2d_eval');
    expect(onnxTestDirectories([one])).toEqual([one]);
    expect(onnxTestDirectories([ONNX_TESTS, one]).map((d) => path.basename(d))).toEqual(TESTS);
  });

  it('refuses a missing path, a file, and a folder without tests, naming them', async () => {
    expect(() => onnxTestDirectories([path.join(work, 'missing')])).toThrow(new OnnxTestInputError(`${path.join(work, 'missing')}: no such directory`));
    const file = path.join(ONNX_TESTS, 'NOTICE');
    expect(() => onnxTestDirectories([file])).toThrow(`${file}: not a directory`);
    const empty = mkdtempSync(path.join(work, 'empty-'));
    await expect(loadOnnxTestCases([empty])).rejects.toThrow(`${empty}: no model.onnx in it or in its subdirectories`);
  });

  it('two tests of one name would mix their results: refused', async () => {
    const other = mkdtempSync(path.join(work, 'other-'));
    cpSync(path.join(ONNX_TESTS, 'test_BatchNorm2d_eval'), path.join(other, 'test_BatchNorm2d_eval'), { recursive: true });
    await expect(loadOnnxTestCases([ONNX_TESTS, other])).rejects.toThrow('its case test_BatchNorm2d_eval/test_data_set_0 has the name of one in');
  });
});

// each child process takes 1–2 s on a busy 2-core machine
describe('batchnorm-conformance --onnx-test', { timeout: 60_000 }, () => {
  it('runs every shipped test (a folder of tests) on the reference: the --vectors JSON document, exit 0', () => {
    const r = run(['--onnx-test', ONNX_TESTS, '--backend', 'reference', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc).toMatchObject({ passed: CASES.length, failed: 0 });
    expect(doc.results.map((x) => x.case)).toEqual(CASES);
    expect(new Set(doc.results.map((x) => x.op))).toEqual(new Set(['forwardInference', 'forwardTraining']));
    expect(doc.backends).toEqual([{ name: 'reference', packageName: '@batchnorm/core', profile: 'float64', details: { precision: 'float64' } }]);
    expect(r.stderr).toContain(`${CASES.length} cases from ${TESTS.length} ONNX backend tests`);
  });

  it('takes several directories after one --onnx-test, or the option repeated, and --skip', () => {
    const a = path.join(ONNX_TESTS, 'test_BatchNorm2d_eval');
    const b = path.join(ONNX_TESTS, 'test_ort_batchnorm_training_NC_opset15');
    const cases = ['test_BatchNorm2d_eval/test_data_set_0', 'test_ort_batchnorm_training_NC_opset15/test_data_set_0', 'test_ort_batchnorm_training_NC_opset15/test_data_set_1'];
    for (const args of [['--onnx-test', a, b], ['--onnx-test', a, '--onnx-test', b], ['--onnx-test', a, '--json', b]]) {
      const r = run([...args, '--backend', 'reference', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as Doc).results.map((x) => x.case)).toEqual(cases);
    }
    const skipped = run(['--onnx-test', a, b, '--backend', 'reference', '--skip', '*', '--json']);
    expect(skipped.status, skipped.stderr).toBe(3);
    expect(skipped.stderr).toContain('nothing was checked: --skip skipped all 3 cases');
  });

  it('exits 1 when an expected output disagrees, naming the case and the value', () => {
    const dir = copyOf('test_ort_batchnorm_training_NCL_opset14', 'tampered');
    // the running variance (output 2) of feature 1, off by 1%: outside ONNX's rtol of 1e-3
    const file = path.join(dir, 'test_data_set_0', 'output_2.pb');
    const tensor = decodeOnnxTensor(new Uint8Array(readFileSync(file)));
    const values = Float32Array.from(tensor.values as Float32Array);
    values[1]! *= 1.01;
    writeFileSync(file, encodeOnnxTensor({ ...tensor, values }));
    const r = run(['--onnx-test', dir, '--backend', 'reference']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/tampered\/test_data_set_0\s+FAIL/);
    expect(r.stdout).toContain('runningVar[1]');
    expect(r.stdout).toContain('Summary: 0 passed, 1 failed on reference');
  });

  describe('a malformed or unreadable test exits 2 naming the file, before any backend runs', () => {
    const refused = (args: string[], message: string): void => {
      const r = run([...args, '--backend', 'reference', '--json']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('running');
      expect(r.stderr).not.toMatch(STACK);
    };

    it('a truncated model.onnx', () => {
      const dir = copyOf('test_BatchNorm2d_eval', 'truncated-model');
      const model = path.join(dir, 'model.onnx');
      writeFileSync(model, readFileSync(model).subarray(0, 100));
      refused(['--onnx-test', dir], `batchnorm-conformance: error: --onnx-test: ${model}`);
    });

    it('a corrupt input_0.pb, among good tests', () => {
      const dir = copyOf('test_BatchNorm3d_eval', 'corrupt-input');
      const input = path.join(dir, 'test_data_set_0', 'input_0.pb');
      writeFileSync(input, Uint8Array.of(0x0a, 0xff, 0x01));
      refused(['--onnx-test', path.join(ONNX_TESTS, 'test_BatchNorm2d_eval'), dir], `batchnorm-conformance: error: --onnx-test: ${input}`);
    });

    it('a model of another operator (NOT_SUPPORTED)', () => {
      const dir = copyOf('test_BatchNorm2d_eval', 'relu');
      const file = path.join(dir, 'model.onnx');
      const model = decodeOnnxModel(new Uint8Array(readFileSync(file)));
      const relu = { ...model, graph: { ...model.graph, nodes: [{ ...model.graph.nodes[0]!, opType: 'Relu' }] } };
      writeFileSync(file, encodeOnnxModel(relu));
      refused(['--onnx-test', dir], 'a graph of one BatchNormalization node');
    });

    it('a missing directory, a file, a folder without tests', () => {
      refused(['--onnx-test', path.join(work, 'nowhere')], `--onnx-test: ${path.join(work, 'nowhere')}: no such directory`);
      refused(['--onnx-test', path.join(ONNX_TESTS, 'NOTICE')], 'not a directory');
      refused(['--onnx-test', mkdtempSync(path.join(work, 'no-tests-'))], 'no model.onnx in it or in its subdirectories');
    });

    it('usage: no directory, --vectors with it, a stray argument', () => {
      refused(['--onnx-test'], "Did you forget to specify the option argument for '--onnx-test'?");
      refused(['--onnx-test', ONNX_TESTS, '--vectors', path.join(work, 'v.json')], '--vectors and --onnx-test cannot be combined');
      refused(['stray'], 'unexpected argument "stray"');
    });
  });
});

/**
 * A project with a stand-in for KNOWN_BACKENDS[0] that normalizes eval-mode inputs with the
 * running variance as the mean: a backend that fails the inference tests only. The workspace's
 * CLI finds backends from the working directory first.
 */
describe('batchnorm-conformance --onnx-test on a failing backend', { timeout: 120_000 }, () => {
  const project = mkdtempSync(path.join(work, 'project-'));
  const modules = path.join(project, 'node_modules', '@batchnorm');
  mkdirSync(modules, { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'project', private: true, type: 'module' }));
  symlinkSync(path.join(packageDir, '..', 'core'), path.join(modules, 'core'), 'dir');
  const [wrong] = KNOWN_BACKENDS;
  const dir = path.join(project, 'node_modules', ...wrong.packageName.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: wrong.packageName, type: 'module', exports: { '.': { import: './index.js' } } }));
  writeFileSync(
    path.join(dir, 'index.js'),
    `import { asyncOnly, createReferenceBackend } from '@batchnorm/core';\n` +
      `const createBackend = () => {\n` +
      `  const inner = asyncOnly(createReferenceBackend());\n` +
      `  return { ...inner, name: ${JSON.stringify(wrong.name)}, batchNormForwardInference: (inputs, attrs) => inner.batchNormForwardInference({ ...inputs, mean: inputs.variance }, attrs) };\n` +
      `};\n` +
      `export const backendModule = { name: ${JSON.stringify(wrong.name)}, packageName: ${JSON.stringify(wrong.packageName)}, ` +
      `description: 'a stand-in', traits: { residence: 'host', tolerance: 'float32', requires: [], environments: ['node'] }, createBackend };\n`,
  );

  it('in its own process (two backends): its inference cases fail, exit 1; the reference passes', () => {
    const r = run(['--onnx-test', ONNX_TESTS, '--backend', `reference,${wrong.name}`, '--json'], project);
    expect(r.status, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.backends.map((b) => [b.name, b.profile, b.error])).toEqual([
      ['reference', 'float64', undefined],
      [wrong.name, 'float32', undefined],
    ]);
    const mine = doc.results.filter((x) => x.backend === wrong.name);
    expect(mine.map((x) => x.case)).toEqual(CASES);
    const inference = mine.filter((x) => x.op === 'forwardInference');
    expect(inference.length).toBeGreaterThanOrEqual(5);
    for (const x of inference) {
      expect(x.pass, x.case).toBe(false);
      expect(x.message).toMatch(/values outside tolerance|y\[/);
    }
    for (const x of mine.filter((y) => y.op === 'forwardTraining')) expect(x.pass, x.case).toBe(true);
    expect(doc.results.filter((x) => x.backend === 'reference').every((x) => x.pass)).toBe(true);
    expect(doc).toMatchObject({ failed: inference.length, passed: 2 * CASES.length - inference.length });
  });
});

import { cpSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, testBackends } from '../__tests__/helpers.js';
import { loadOnnxTest, readOnnxBackendTest, runOnnxTest } from '../node.js';
import { ONNX_TEST_TOLERANCE, onnxTestCases } from './backendTest.js';
import { runOnnxCases } from './backendTestRun.js';

const ONNX_TESTS = join(FIXTURES, 'onnx-tests');
const PYTORCH_CONVERTED = [
  'test_BatchNorm1d_3d_input_eval',
  'test_BatchNorm2d_eval',
  'test_BatchNorm2d_momentum_eval',
  'test_BatchNorm3d_eval',
  'test_BatchNorm3d_momentum_eval',
];

describe('ONNX backend tests as conformance cases', () => {
  it('ships ONNX\'s five pytorch-converted BatchNorm tests and the onnxruntime training-mode ones', () => {
    const dirs = readdirSync(ONNX_TESTS).filter((d) => d.startsWith('test_'));
    expect(dirs.filter((d) => !d.startsWith('test_ort_'))).toEqual(PYTORCH_CONVERTED);
    expect(dirs.filter((d) => d.startsWith('test_ort_batchnorm_training_')).length).toBeGreaterThanOrEqual(5);
  });

  it('maps an inference test to a forwardInference case in the layout of its rank', async () => {
    const [c] = await loadOnnxTest(join(ONNX_TESTS, 'test_BatchNorm1d_3d_input_eval'));
    expect(c).toMatchObject({
      name: 'test_BatchNorm1d_3d_input_eval/test_data_set_0',
      op: 'forwardInference',
      layout: 'NCL',
      shape: [4, 5, 3],
      epsilon: 1e-5,
      tolerance: ONNX_TEST_TOLERANCE,
    });
    expect(Object.keys(c!.inputs).sort()).toEqual(['beta', 'gamma', 'runningMean', 'runningVar', 'x']);
    expect(Object.keys(c!.expected)).toEqual(['y']);
  });

  it('maps a training-mode test to forwardTraining with our momentum and ONNX\'s biased update', async () => {
    const cases = await loadOnnxTest(join(ONNX_TESTS, 'test_ort_batchnorm_training_NC_opset15'), { tolerance: null });
    expect(cases.map((c) => c.name)).toEqual([
      'test_ort_batchnorm_training_NC_opset15/test_data_set_0',
      'test_ort_batchnorm_training_NC_opset15/test_data_set_1',
    ]);
    expect(cases[0]).toMatchObject({ op: 'forwardTraining', layout: 'NC', attrs: { momentum: 0.1, varianceCorrection: 'biased' } });
    expect(Object.keys(cases[0]!.expected).sort()).toEqual(['runningMean', 'runningVar', 'y']);
    expect(cases[0]!.tolerance).toBeUndefined();
  });

  for (const { name, backend, destroy } of testBackends()) {
    describe(`every shipped test passes through the BatchNorm layer on ${name}`, () => {
      afterAll(destroy);
      for (const dir of readdirSync(ONNX_TESTS).filter((d) => d.startsWith('test_'))) {
        it(dir, async () => {
          const results = await runOnnxTest(join(ONNX_TESTS, dir), backend, { backendName: name });
          expect(results.length).toBeGreaterThan(0);
          for (const r of results) {
            expect(r.backend).toBe(name);
            expect(r.pass, r.message).toBe(true);
            expect(r.toleranceRatio).toBeLessThan(1);
          }
        });
      }
    });
  }

  it('a wrong expected value fails its case with the first mismatch, and the run goes on', async () => {
    const { backend, destroy } = testBackends()[0]!;
    const test = await readOnnxBackendTest(join(ONNX_TESTS, 'test_ort_batchnorm_training_NCL_opset14'));
    const [good] = onnxTestCases(test);
    const runningVar = Float64Array.from(good!.expected['runningVar']!);
    runningVar[1]! *= 1.01;
    const results = await runOnnxCases([{ ...good!, name: 'tampered', expected: { ...good!.expected, runningVar } }, good!], backend);
    expect(results[0]).toMatchObject({ case: 'tampered', pass: false, mismatches: 1 });
    expect(results[0]!.message).toContain('runningVar[1]');
    expect(results[1]!.pass).toBe(true);
    // a case the layer refuses (a negative running variance) fails with the error, never throws
    const refused = await runOnnxCases([{ ...good!, inputs: { ...good!.inputs, runningVar: Float64Array.of(-1, 1, 1) } }], backend);
    expect(refused[0]!.pass).toBe(false);
    expect(refused[0]!.message).toContain('threw: BatchNormError');
    destroy();
  });
});

describe('readOnnxBackendTest: a directory it cannot run is a typed error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'interop-onnx-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const copy = (name: string) => {
    const target = join(dir, name);
    cpSync(join(ONNX_TESTS, 'test_BatchNorm2d_eval'), target, { recursive: true });
    return target;
  };

  it('a missing directory or model.onnx', async () => {
    await expect(readOnnxBackendTest(join(dir, 'missing'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', received: 'no such file or directory' });
    const empty = join(dir, 'empty');
    cpSync(join(ONNX_TESTS, 'test_BatchNorm2d_eval', 'test_data_set_0'), join(empty, 'test_data_set_0'), { recursive: true });
    await expect(readOnnxBackendTest(empty)).rejects.toMatchObject({ file: empty, expected: expect.stringContaining('model.onnx') });
  });

  it('data sets or inputs numbered with a gap', async () => {
    const gap = copy('gap');
    renameSync(join(gap, 'test_data_set_0'), join(gap, 'test_data_set_1'));
    await expect(readOnnxBackendTest(gap)).rejects.toMatchObject({ file: gap, received: 'test_data_set_1' });
  });

  it('a corrupt input file, named', async () => {
    const corrupt = copy('corrupt');
    writeFileSync(join(corrupt, 'test_data_set_0', 'input_0.pb'), Uint8Array.of(0x0a, 0xff, 0x01));
    await expect(readOnnxBackendTest(corrupt)).rejects.toMatchObject({ file: join(corrupt, 'test_data_set_0', 'input_0.pb') });
  });

  it('a graph of another operator: NOT_SUPPORTED', async () => {
    const test = await readOnnxBackendTest(join(ONNX_TESTS, 'test_BatchNorm2d_eval'));
    const relu = { ...test, model: { ...test.model, graph: { ...test.model.graph, nodes: [{ ...test.model.graph.nodes[0]!, opType: 'Relu' }] } } };
    expect(() => onnxTestCases(relu)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', field: 'graph.node' }));
  });
});

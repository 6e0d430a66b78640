import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BatchNorm, type Backend, type BatchNormState, type Layout } from '@batchnorm/core';
import { caseTolerances, compareClose, profileFor, type ConformanceCase, type Tolerance, type ToleranceProfile } from '@batchnorm/conformance';
import { loadBatchNorm, runOnnxTest, saveBatchNorm } from '@batchnorm/interop/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendUnderTest, loadBackendUnderTest, type LoadedBackend } from './backends.js';

/** packages/interop/fixtures, from the workspace package (the fixtures are not published). */
const FIXTURES = join(dirname(createRequire(import.meta.url).resolve('@batchnorm/interop/package.json')), 'fixtures');
const PYTORCH_FIXTURES = ['bn1d_nc', 'bn1d_ncl_cumulative', 'bn2d', 'bn3d', 'bn2d_f64'];
const ONNX_TESTS = join(FIXTURES, 'onnx-tests');

/** A fixture of tools/interop-fixtures/generate.py: a PyTorch module trained a few steps, and its outputs. */
interface Fixture {
  readonly layout: Layout;
  readonly shape: number[];
  readonly epsilon: number;
  readonly momentum: number | null;
  readonly dtype: 'F32' | 'F64';
  readonly xEval: number[];
  readonly yEval: number[];
  readonly xTrain: number[];
  readonly yTrain: number[];
  readonly runningMeanAfter: number[];
  readonly runningVarAfter: number[];
  readonly numBatchesTrackedAfter: number;
}

const fixture = (name: string): Fixture => JSON.parse(readFileSync(join(FIXTURES, 'pytorch', `${name}.json`), 'utf8')) as Fixture;

/**
 * How close our layer must come to PyTorch: |ours − PyTorch| ≤ |ours − exact| + |PyTorch − exact|,
 * each bounded by conformance's tolerance derived for the case (its conditioning, reduction
 * length, magnitudes) at that engine's precision: the backend's profile (its manifest's
 * `traits.tolerance`) and PyTorch's (float32, or float64 for an F64 fixture). So the sum.
 */
function tolerances(c: ConformanceCase, backend: ToleranceProfile, pytorch: ToleranceProfile): Record<string, Tolerance> {
  const ours = caseTolerances(c, backend);
  const theirs = caseTolerances(c, pytorch);
  return Object.fromEntries(
    Object.entries(ours).map(([key, t]) => [key, { atol: t.atol + theirs[key]!.atol, rtol: t.rtol + theirs[key]!.rtol }]),
  );
}

/** Asserts every expected output of `c` within its tolerance, naming the output and the worst ratio. */
function expectClose(c: ConformanceCase, got: Readonly<Record<string, ArrayLike<number>>>, tols: Record<string, Tolerance>): void {
  for (const [key, want] of Object.entries(c.expected)) {
    const r = compareClose(got[key]!, want, tols[key]!, key);
    expect(r.mismatches, `${c.name} ${key}: ${r.firstMismatch ?? ''}`).toBe(0);
  }
}

const f64 = (values: ArrayLike<number>): Float64Array => Float64Array.from(values);

function upload(backend: Backend, values: ArrayLike<number>, shape: readonly number[]) {
  return backend.upload(backend.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), shape);
}

/** One backend per process (vitest.config.ts: a project per backend). */
const name = backendUnderTest();
let loaded: LoadedBackend | undefined;
let loadError: unknown;
beforeAll(async () => {
  try {
    loaded = await loadBackendUnderTest(name);
  } catch (error) {
    // each test fails with it, rather than one hook error that hides which tests did not run
    loadError = error;
  }
});
afterAll(() => loaded?.backend.destroy());

/** The backend under test, or the test fails with why it did not start. */
function get(): LoadedBackend {
  if (loaded === undefined) throw loadError instanceof Error ? loadError : new Error(`backend ${name} did not load`);
  return loaded;
}

const work = mkdtempSync(join(tmpdir(), 'interop-backends-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe(`on ${name}`, () => {
  for (const fixtureName of PYTORCH_FIXTURES) {
    it(`${fixtureName}: PyTorch's state_dict loads; eval and one training step match PyTorch's outputs`, async () => {
      const { backend, profile } = get();
      const f = fixture(fixtureName);
      const layer = await loadBatchNorm(join(FIXTURES, 'pytorch', `${fixtureName}.safetensors`), backend, {
        layout: f.layout,
        epsilon: f.epsilon,
        momentum: f.momentum,
      });
      try {
        const before = await layer.state();
        const params = { gamma: f64(before.gamma), beta: f64(before.beta), runningMean: f64(before.runningMean), runningVar: f64(before.runningVar) };
        const pytorch = profileFor(f.dtype === 'F64' ? 'float64' : 'float32');

        // the fixture's layer, the same in its two cases
        const fixture = { layout: f.layout, shape: f.shape, epsilon: f.epsilon };
        const evalCase: ConformanceCase = {
          name: `${fixtureName}/eval`,
          op: 'forwardInference',
          ...fixture,
          inputs: { x: f64(f.xEval), ...params },
          expected: { y: f64(f.yEval) },
        };
        layer.eval();
        const xEval = upload(backend, f.xEval, f.shape);
        const yEval = layer.forward(xEval);
        expectClose(evalCase, { y: await backend.read(yEval) }, tolerances(evalCase, profile, pytorch));

        // PyTorch's momentum=None is a cumulative average: this step weighs the batch 1/(n+1)
        const momentum = f.momentum ?? 1 / (before.numBatchesTracked + 1);
        const trainCase: ConformanceCase = {
          name: `${fixtureName}/train`,
          op: 'forwardTraining',
          ...fixture,
          attrs: { momentum, varianceCorrection: 'unbiased' },
          inputs: { x: f64(f.xTrain), ...params },
          expected: { y: f64(f.yTrain), runningMean: f64(f.runningMeanAfter), runningVar: f64(f.runningVarAfter) },
        };
        layer.train();
        const xTrain = upload(backend, f.xTrain, f.shape);
        const yTrain = layer.forward(xTrain);
        const after = await layer.state();
        const trainTolerances = tolerances(trainCase, profile, pytorch);
        expectClose(trainCase, { y: await backend.read(yTrain), runningMean: after.runningMean, runningVar: after.runningVar }, trainTolerances);
        // and it is tight enough to tell PyTorch's unbiased update from a biased one (m/(m−1) apart)
        const m = f.shape.reduce((a, b) => a * b, 1) / before.numFeatures;
        const biased = after.runningVar.map((v, c) => (1 - momentum) * before.runningVar[c]! + ((v - (1 - momentum) * before.runningVar[c]!) * (m - 1)) / m);
        expect(compareClose(biased, trainCase.expected['runningVar']!, trainTolerances['runningVar']!).mismatches).toBeGreaterThan(0);
        expect(after.numBatchesTracked).toBe(f.numBatchesTrackedAfter);
        for (const t of [xEval, yEval, xTrain, yTrain]) backend.dispose(t);
      } finally {
        layer.dispose();
      }
    });
  }

  it('a trained layer saved as safetensors loads back to its state, computing what that state computes', async () => {
    const { backend } = get();
    const f = fixture('bn2d');
    const layer = await loadBatchNorm(join(FIXTURES, 'pytorch', 'bn2d.safetensors'), backend, { layout: f.layout, epsilon: f.epsilon, momentum: f.momentum });
    const x = upload(backend, f.xTrain, f.shape);
    try {
      backend.dispose(layer.forward(x));
      layer.eval();
      const state = await layer.state();
      // what the file must reproduce: what the state computes, in a layer restored from it in
      // memory (not the trained layer itself: backend-js keeps float64 copies of γ and β, which
      // state() reads as float32, so even fromState differs from it by an ulp)
      const restored = BatchNorm.fromState(backend, state).eval();
      const yRestored = restored.forward(x);
      const y = await backend.read(yRestored);
      backend.dispose(yRestored);
      restored.dispose();
      for (const dtype of ['F64', 'F32'] as const) {
        const path = join(work, `${name}-${dtype}.safetensors`);
        await saveBatchNorm(path, layer, { dtype });
        const back = await loadBatchNorm(path, backend);
        try {
          // F64 keeps every value; F32 keeps float32's (all a float32 backend has)
          const kept = dtype === 'F64' ? (v: number) => v : Math.fround;
          const want: BatchNormState = {
            ...state,
            gamma: state.gamma.map(kept),
            beta: state.beta.map(kept),
            runningMean: state.runningMean.map(kept),
            runningVar: state.runningVar.map(kept),
          };
          expect(await back.state()).toEqual(want);
          // F32 rounds the running averages a backend with readFloat64 kept in float64.
          const sameValues = dtype === 'F64' || (backend.dtype === 'float32' && backend.readFloat64 === undefined);
          if (sameValues) {
            back.eval();
            const yBack = back.forward(x);
            expect(await backend.read(yBack)).toEqual(y);
            backend.dispose(yBack);
          }
        } finally {
          back.dispose();
        }
      }
    } finally {
      backend.dispose(x);
      layer.dispose();
    }
  });

  it('ONNX\'s BatchNorm tests (pytorch-converted, onnxruntime training mode) pass through the layer', async () => {
    const { backend } = get();
    const dirs = readdirSync(ONNX_TESTS).filter((d) => d.startsWith('test_'));
    expect(dirs.length).toBeGreaterThanOrEqual(12);
    for (const dir of dirs) {
      const results = await runOnnxTest(join(ONNX_TESTS, dir), backend, { backendName: name });
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) expect(r.pass, `${r.case}: ${r.message ?? ''}`).toBe(true);
    }
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readOnnxFile, readSafetensorsFile } from '@batchnorm/interop/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUICK, runCli } from './__tests__/cliProcess.js';
import { temporaryDirectories } from './__tests__/temp.js';
import { loadDataset, type Dataset } from './data.js';
import { valuesOf, type MlpSnapshot } from './model.js';
import type { Checkpoint, Metrics } from './trainer.js';

// onnxruntime-node 1.30.0 bundles its CPU binding; its install script (CUDA downloads) is skipped.
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

const temp = temporaryDirectories('mnist-export-');

let mnist: Dataset;
beforeAll(async () => {
  mnist = await loadDataset();
});

/** One short run on the reference backend (float64), shared by the tests that only read its files. */
let quickDir: string | undefined;
function quickRun(): string {
  if (quickDir === undefined) {
    const dir = temp();
    expect(runCli([...QUICK, '--steps', '10', '--out', dir]).status).toBe(0);
    quickDir = dir;
  }
  return quickDir;
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

/** How many of the first `count` test images the ONNX model at `path` classifies correctly. */
async function onnxCorrect(path: string, count: number): Promise<number> {
  const session = await ort.InferenceSession.create(path);
  const test = mnist.test;
  // The app's own inputs: pixels / 255 as float32 (data.ts).
  const x = new ort.Tensor('float32', test.images.subarray(0, count * 784), [count, 784]);
  const { logits } = await session.run({ x });
  expect(logits!.dims).toEqual([count, 10]);
  const scores = logits!.data as Float32Array;
  let correct = 0;
  for (let r = 0; r < count; r++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (scores[r * 10 + k]! > scores[r * 10 + best]!) best = k;
    if (best === test.labels[r]) correct += 1;
  }
  await session.release();
  return correct;
}

const finalAccuracy = (metrics: Metrics, variant: string) => metrics.runs.find((run) => run.variant === variant)!.evals.at(-1)!.testAccuracy;

const BN_NAMES = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'];
const EXPECTED_NAMES = {
  bn: ['fc1.weight', 'fc2.weight', 'fc3.weight', 'out.weight', 'out.bias', ...['bn1', 'bn2', 'bn3'].flatMap((bn) => BN_NAMES.map((n) => `${bn}.${n}`))],
  plain: ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias', 'out.weight', 'out.bias'],
};

describe('the exported models (issue 16, item 5)', () => {
  it('score the app’s own final test accuracy on all 10,000 test images in onnxruntime-node', async () => {
    const dir = temp();
    const result = runCli(['--backend', 'js', '--steps', '100', '--eval-every', '100', '--out', dir], 180_000);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    for (const name of ['bn.onnx', 'bn.safetensors', 'plain.onnx', 'plain.safetensors']) expect(result.stdout).toContain(name);
    const metrics = readJson<Metrics>(join(dir, 'metrics.json'));
    expect(metrics.dataset.testImages).toBe(10_000);
    for (const variant of ['bn', 'plain'] as const) {
      // Counts, not rounded percentages: the same images are right in both engines.
      expect(await onnxCorrect(join(dir, `${variant}.onnx`), 10_000)).toBe(Math.round(finalAccuracy(metrics, variant) * 10_000));
    }
  }, 240_000);

  it('have input x float32 [batch, 784] with a dynamic batch, output logits [batch, 10]', async () => {
    const dir = quickRun();
    const model = await readOnnxFile(join(dir, 'bn.onnx'));
    expect(model.graph.inputs.map((i) => [i.name, i.elemType, i.shape])).toEqual([['x', 1, ['batch', 784]]]);
    expect(model.graph.outputs.map((o) => [o.name, o.elemType, o.shape])).toEqual([['logits', 1, ['batch', 10]]]);
    expect(model.graph.nodes.filter((n) => n.opType === 'BatchNormalization').map((n) => n.name)).toEqual(['bn1', 'bn2', 'bn3']);
    const session = await ort.InferenceSession.create(join(dir, 'plain.onnx'));
    for (const batch of [1, 7]) {
      const { logits } = await session.run({ x: new ort.Tensor('float32', mnist.test.images.subarray(0, batch * 784), [batch, 784]) });
      expect(logits!.dims).toEqual([batch, 10]);
    }
    await session.release();
  });

  it('carry PyTorch’s names and conventions in safetensors: Linear [out, in], unbiased running_var, I64 num_batches_tracked', async () => {
    const dir = quickRun();
    const checkpoint = readJson<Checkpoint>(join(dir, 'checkpoint.json'));
    for (const variant of ['bn', 'plain'] as const) {
      const file = await readSafetensorsFile(join(dir, `${variant}.safetensors`));
      expect([...file.tensors.keys()].sort()).toEqual([...EXPECTED_NAMES[variant]].sort());
      const snapshot: MlpSnapshot = checkpoint.runs.find((run) => run.record.variant === variant)!.model;
      // The reference backend trains in float64: the file keeps every bit (F64).
      const fc2 = file.tensors.get('fc2.weight')!;
      expect([fc2.dtype, fc2.shape]).toEqual(['F64', [100, 100]]);
      const w = valuesOf(snapshot.weights[1]!); // [in, out]
      const stored = new Float64Array(fc2.bytes.slice().buffer);
      expect(stored[3 * 100 + 5]).toBe(w[5 * 100 + 3]); // out 3, in 5
      expect(file.tensors.get('fc1.weight')!.shape).toEqual([100, 784]);
      expect(JSON.parse(file.metadata['batchnorm-mnist']!)).toMatchObject({ variant, step: 10 });
    }
    const bn = await readSafetensorsFile(join(dir, 'bn.safetensors'));
    const tracked = bn.tensors.get('bn1.num_batches_tracked')!;
    expect([tracked.dtype, tracked.shape]).toEqual(['I64', []]);
    // The exact population statistics the evaluation used: 2 training batches (QUICK) averaged,
    // their variance unbiased (m/(m−1)·E[σ²]), recorded as such in the layer's metadata.
    expect(new BigInt64Array(tracked.bytes.slice().buffer)[0]).toBe(2n);
    expect(JSON.parse(bn.metadata['batchnorm:bn1.']!)).toMatchObject({ varianceCorrection: 'unbiased', momentum: null });
  });

  it('with --population moving carry the running averages, and onnxruntime scores the app’s accuracy', async () => {
    const dir = temp();
    const result = runCli(
      ['--backend', 'js', '--bn', 'on', '--population', 'moving', '--steps', '50', '--eval-every', '50', '--test-limit', '2000', '--out', dir],
      180_000,
    );
    expect(result.status).toBe(0);
    const metrics = readJson<Metrics>(join(dir, 'metrics.json'));
    expect(existsSync(join(dir, 'plain.onnx'))).toBe(false);
    const bn = await readSafetensorsFile(join(dir, 'bn.safetensors'));
    expect(new BigInt64Array(bn.tensors.get('bn2.num_batches_tracked')!.bytes.slice().buffer)[0]).toBe(50n);
    expect(await onnxCorrect(join(dir, 'bn.onnx'), 2000)).toBe(Math.round(finalAccuracy(metrics, 'bn') * 2000));
  }, 240_000);

  it('are the same bytes for the same seed, and --overwrite removes those of the replaced run', () => {
    const [a, b] = [quickRun(), temp()];
    expect(runCli([...QUICK, '--steps', '10', '--out', b]).status).toBe(0);
    for (const name of ['bn.onnx', 'bn.safetensors', 'plain.onnx', 'plain.safetensors']) {
      expect(readFileSync(join(a, name)).equals(readFileSync(join(b, name))), name).toBe(true);
    }
    expect(runCli([...QUICK, '--steps', '10', '--bn', 'off', '--out', b, '--overwrite']).status).toBe(0);
    expect(existsSync(join(b, 'bn.onnx'))).toBe(false);
    expect(existsSync(join(b, 'bn.safetensors'))).toBe(false);
    expect(existsSync(join(b, 'plain.onnx'))).toBe(true);
  });
});

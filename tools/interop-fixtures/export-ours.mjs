#!/usr/bin/env node
// Writes files with @batchnorm/interop (the built package) for generate.py to check against
// PyTorch and onnxruntime: `node export-ours.mjs OUT_DIR`. Writes OUT_DIR/manifest.json listing
// each file with the outputs our layer computed.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchNorm, createReferenceBackend, Mulberry32 } from '@batchnorm/core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const interop = await import(join(root, 'packages/interop/dist/index.js'));
const interopNode = await import(join(root, 'packages/interop/dist/node.js'));
const fixtures = join(root, 'packages/interop/fixtures/pytorch');

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: node export-ours.mjs OUT_DIR\n');
  process.exit(2);
}
const backend = createReferenceBackend();
const manifest = { layers: [], model: undefined, mlps: [], onnx: [] };

/** Seeded uniform numbers in [0, 1) (core's mulberry32), so every run writes the same files. */
function random(seed) {
  const source = new Mulberry32(seed);
  return () => source.uniform();
}

async function run(layer, x, shape) {
  const xt = backend.upload(Float64Array.from(x), shape);
  const yt = layer.forward(xt);
  const y = Array.from(await backend.read(yt));
  backend.dispose(yt);
  backend.dispose(xt);
  return y;
}

// 1. The PyTorch fixtures, loaded into our layer, one more training step, saved by us.
const names = ['bn1d_nc', 'bn1d_ncl_cumulative', 'bn2d', 'bn3d', 'bn2d_f64'];
const states = {};
for (const name of names) {
  const fixture = JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8'));
  const layer = await interopNode.loadBatchNorm(join(fixtures, `${name}.safetensors`), backend, {
    layout: fixture.layout,
    epsilon: fixture.epsilon,
    momentum: fixture.momentum,
  });
  await run(layer, fixture.xTrain, fixture.shape); // training mode: running statistics updated
  layer.eval();
  const yEval = await run(layer, fixture.xEval, fixture.shape);
  await interopNode.saveBatchNorm(join(out, `${name}.safetensors`), layer, { dtype: fixture.dtype });
  states[name] = await layer.state();
  manifest.layers.push({ name, yEval });
  layer.dispose();
}

// 2. A model's layers by prefix.
await interopNode.saveBatchNorm(join(out, 'model.safetensors'), { 'features.0.': states['bn2d'], 'head.': states['bn1d_nc'] });
manifest.model = { file: 'model.safetensors', prefixes: ['features.0.', 'head.'] };

// 3. The MNIST network, both variants, weights [in, out] as the app keeps them.
const sizes = [784, 100, 100, 100, 10];
for (const variant of ['bn', 'plain']) {
  const rand = random(variant === 'bn' ? 7 : 8);
  const layers = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [n, m] = [sizes[l], sizes[l + 1]];
    const limit = Math.sqrt(6 / (n + m));
    const weight = Float64Array.from({ length: n * m }, () => (2 * rand() - 1) * limit);
    const hidden = l + 2 < sizes.length;
    const name = hidden ? `fc${l + 1}` : 'out';
    const layer = { name, inFeatures: n, outFeatures: m, weight, weightLayout: 'inOut' };
    if (variant === 'bn' && hidden) {
      const bn = new BatchNorm(backend, {
        numFeatures: m,
        gamma: Array.from({ length: m }, () => 0.5 + rand()),
        beta: Array.from({ length: m }, () => rand() - 0.5),
      });
      const state = await bn.state();
      bn.dispose();
      layers.push({
        ...layer,
        batchNorm: {
          name: `bn${l + 1}`,
          state: {
            ...state,
            runningMean: Array.from({ length: m }, () => 2 * rand() - 1),
            runningVar: Array.from({ length: m }, () => 0.5 + 2 * rand()),
            numBatchesTracked: 1234,
          },
        },
        activation: 'sigmoid',
      });
    } else {
      layers.push({ ...layer, bias: Array.from({ length: m }, () => 0.2 * rand() - 0.1), ...(hidden ? { activation: 'sigmoid' } : {}) });
    }
  }
  const model = { layers };
  // our logits: core's kernels and the BatchNorm layer in eval mode
  const batch = 5;
  const x = Float64Array.from({ length: batch * 784 }, () => Math.floor(rand() * 256) / 255);
  let h = backend.upload(x, [batch, 784]);
  for (const layer of layers) {
    const w = backend.upload(Float64Array.from(layer.weight), [layer.inFeatures, layer.outFeatures]);
    let z = backend.matMul(h, w);
    backend.dispose(w);
    backend.dispose(h);
    if (layer.bias !== undefined) {
      const b = backend.upload(Float64Array.from(layer.bias), [layer.outFeatures]);
      const zb = backend.addBias(z, b);
      backend.dispose(b);
      backend.dispose(z);
      z = zb;
    }
    if (layer.batchNorm !== undefined) {
      const bn = BatchNorm.fromState(backend, layer.batchNorm.state).eval();
      const s = bn.forward(z);
      bn.dispose();
      backend.dispose(z);
      z = s;
    }
    if (layer.activation === 'sigmoid') {
      h = backend.sigmoid(z);
      backend.dispose(z);
    } else {
      h = z;
    }
  }
  const logits = Array.from(await backend.read(h));
  backend.dispose(h);
  const safetensors = `mlp_${variant}.safetensors`;
  await interopNode.writeSafetensorsFile(join(out, safetensors), interop.mlpSafetensors(model));
  const onnxFiles = [];
  for (const linear of ['gemm', 'matmul']) {
    const file = `mlp_${variant}_${linear}.onnx`;
    await interopNode.writeOnnxFile(join(out, file), interop.encodeMlpOnnx(model, { linear }));
    onnxFiles.push(file);
  }
  manifest.mlps.push({ variant, sizes, xShape: [batch, 784], x: Array.from(x), logits, safetensors, onnx: onnxFiles });
}

// 4. BN layers as ONNX models: every layout, opsets 9 to 15, training mode, parameters as inputs.
const shapes = { NC: [6, 3], NCL: [3, 3, 4], NLC: [3, 4, 3], NCHW: [2, 3, 3, 2], NHWC: [2, 3, 2, 3], NCDHW: [2, 3, 2, 2, 2], NDHWC: [2, 2, 2, 2, 3] };
const rand = random(11);
for (const [layout, shape] of Object.entries(shapes)) {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = Array.from({ length: size }, () => 3 + 2 * (rand() - 0.5));
  const params = {
    gamma: [0.5 + rand(), 0.5 + rand(), 0.5 + rand()],
    beta: [rand() - 0.5, rand() - 0.5, rand() - 0.5],
    runningMean: [3 + rand() - 0.5, 3 + rand() - 0.5, 3 + rand() - 0.5],
    runningVar: [0.2 + rand(), 0.2 + rand(), 0.2 + rand()],
  };
  for (const variant of ['eval', 'training']) {
    const state = {
      schema: 'batchnorm-state/1',
      numFeatures: 3,
      layout,
      epsilon: 1e-5,
      momentum: 0.2,
      varianceCorrection: variant === 'training' ? 'biased' : 'unbiased',
      ...params,
      numBatchesTracked: 0,
    };
    const layer = BatchNorm.fromState(backend, state);
    if (variant === 'eval') layer.eval();
    const y = await run(layer, x, shape);
    const after = await layer.state();
    layer.dispose();
    const opsets = variant === 'training' ? [14, 15] : [9, 12, 15];
    for (const opset of opsets) {
      for (const parameters of ['initializers', 'inputs']) {
        const file = `bn_${layout}_${variant}_opset${opset}_${parameters}.onnx`;
        await interopNode.writeOnnxFile(join(out, file), interop.encodeBatchNormOnnx(state, { opset, trainingMode: variant === 'training', parameters, shape }));
        const feeds =
          parameters === 'inputs'
            ? { scale: params.gamma, B: params.beta, input_mean: params.runningMean, input_var: params.runningVar }
            : {};
        manifest.onnx.push({
          file,
          shape,
          x,
          y,
          feeds,
          ...(variant === 'training' ? { runningMean: after.runningMean, runningVar: after.runningVar } : {}),
        });
      }
    }
  }
}

writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
process.stdout.write(`export-ours: wrote ${manifest.layers.length} layers, 1 model, ${manifest.mlps.length} MLPs, ${manifest.onnx.length} ONNX models to ${out}\n`);

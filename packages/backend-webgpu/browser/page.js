/* global window, fetch, performance */
// The browser test's page: the webgpu backend on navigator.gpu (SwiftShader in headless Chromium),
// judged by the conformance suite as in Node, with subgroups (when the adapter has them) and
// without. Plain modules, resolved by the page's import map: no bundler.
import { backendModule, createBackend } from '/webgpu/index.js';
import { runSuite } from '/conformance/suite.js';
import { parseVectorFile } from '/conformance/vectorFile.js';

const profile = backendModule.traits.tolerance;

/** The float32 bits of a training forward and backward on one tensor, for the determinism check. */
async function stepBits(backend) {
  const shape = [16, 64, 64, 4]; // NHWC, m = 65,536 values per feature: 16 chunks each
  const size = 16 * 64 * 64 * 4;
  const x = backend.upload(Float32Array.from({ length: size }, (_, i) => 1e4 + Math.sin(i * 0.37) * (1 + (i % 7))), shape);
  const dy = backend.upload(Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.11)), shape);
  const gamma = backend.upload(Float32Array.of(1, 2, 0.5, -1), [4]);
  const beta = backend.upload(Float32Array.of(0, 1, 2, 3), [4]);
  const attrs = { layout: 'NHWC', epsilon: 1e-5 };
  const out = backend.batchNormForwardTraining({ x, gamma, beta }, attrs);
  const grads = backend.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
  const tensors = [out.y, out.mean, out.variance, grads.dx, grads.dgamma, grads.dbeta];
  const values = await Promise.all(tensors.map((t) => backend.read(t)));
  backend.disposeSaved(out.saved);
  for (const t of [x, dy, gamma, beta, ...tensors]) backend.dispose(t);
  return values.map((v) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length)));
}

/** What the test checks of stats()' timings after one training step. */
function timingOf(stats) {
  const { batchNormForwardTraining: forward, batchNormBackward: backward, matMul } = stats.kernels;
  return {
    gpuTime: stats.gpuTime,
    pendingGpuTimes: stats.pendingGpuTimes,
    forward: { calls: forward.calls, submitMs: forward.submitMs, gpuMs: forward.gpuMs },
    backward: { calls: backward.calls, submitMs: backward.submitMs, gpuMs: backward.gpuMs },
    matMul: { calls: matMul.calls, gpuMs: matMul.gpuMs },
    readMs: stats.reads.ms,
  };
}

/** One training step with timestamp queries turned off: stats() says why there is no GPU time. */
async function untimed() {
  const backend = await createBackend({ timestamps: false });
  try {
    await stepBits(backend);
    await backend.onSubmittedWorkDone();
    return { gpuTime: backend.details.gpuTime, timing: timingOf(backend.stats()) };
  } finally {
    backend.destroy();
  }
}

async function run(label, options, vectors) {
  const backend = await createBackend(options);
  try {
    const started = performance.now();
    const results = [
      ...(await runSuite(backend, { grid: 'quick', profile })),
      ...(await runSuite(backend, { cases: vectors, profile, checks: false })),
    ];
    const first = await stepBits(backend);
    backend.resetStats();
    const second = await stepBits(backend);
    // the GPU times of the step's kernels are in stats() once the work is done
    await backend.onSubmittedWorkDone();
    const stats = backend.stats();
    const failed = results.filter((r) => !r.pass).map((r) => `${r.case}: ${r.message ?? ''}`);
    return {
      label,
      details: backend.details,
      cases: results.length,
      failed,
      worstRatio: Math.max(0, ...results.map((r) => r.toleranceRatio ?? 0)),
      deterministic: JSON.stringify(first) === JSON.stringify(second),
      uncapturedErrors: stats.uncapturedErrors,
      timing: timingOf(stats),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    backend.destroy();
  }
}

window.batchnormReport = (async () => {
  try {
    const vectors = parseVectorFile(await (await fetch('/vectors.json')).json(), 'conformance-vectors.json');
    return {
      runs: [await run('default', {}, vectors), await run('subgroups: false', { subgroups: false }, vectors)],
      untimed: await untimed(),
    };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) };
  }
})();

// A user's app: the packed packages, installed with npm and imported by name. One BatchNorm
// training step (forward, backward) on backend-js with its default options, checked against core's
// float64 reference.
import { BatchNorm, createReferenceBackend, type Backend } from '@batchnorm/core';
import { createBackend } from '@batchnorm/backend-js';
import type { StepReport } from '../report.js';

/** Where the test reads the report (`page.evaluate`). */
const published = window as unknown as { batchnormReport?: StepReport };

// NHWC with 2¹⁸ elements: the size at which backend-js splits a tensor across its threads
const SHAPE = [8, 32, 32, 32];
const C = 32;

/** Deterministic float32-representable inputs: both backends see the very same values. */
function inputs(n: number, seed: number, offset: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return offset + (s / 2 ** 32 - 0.5) * 4;
  });
}

async function trainingStep(backend: Backend): Promise<Record<string, Float32Array | Float64Array>> {
  const n = SHAPE.reduce((a, b) => a * b, 1);
  const bn = new BatchNorm(backend, { numFeatures: C, layout: 'NHWC' });
  const x = backend.upload(inputs(n, 1, 3), SHAPE);
  const dy = backend.upload(inputs(n, 2, 0), SHAPE);
  const y = bn.forward(x);
  const dx = bn.backward(dy);
  const grads = bn.gradients!;
  const state = await bn.state();
  const out = {
    y: await backend.read(y),
    dx: await backend.read(dx),
    dgamma: await backend.read(grads.gamma),
    dbeta: await backend.read(grads.beta),
    runningMean: Float64Array.from(state.runningMean),
    runningVar: Float64Array.from(state.runningVar),
  };
  for (const t of [x, dy, y, dx]) backend.dispose(t);
  bn.dispose();
  return out;
}

function worstError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
  }
  return worst;
}

async function main(): Promise<void> {
  const started = performance.now();
  const base = { crossOriginIsolated: globalThis.crossOriginIsolated, shape: SHAPE };
  let report: StepReport;
  try {
    // no options: the defaults must work in any page, isolated or not
    const js = createBackend();
    await js.whenThreadsReady();
    const got = await trainingStep(js);
    const want = await trainingStep(createReferenceBackend());
    const errors = Object.fromEntries(Object.keys(want).map((k) => [k, worstError(got[k]!, want[k]!)]));
    report = { ...base, details: JSON.parse(JSON.stringify(js.details)) as Record<string, unknown>, errors, helperChunks: js.helperChunks(), ms: Math.round(performance.now() - started) };
    js.destroy();
  } catch (error) {
    report = { ...base, details: {}, errors: {}, helperChunks: 0, ms: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  published.batchnormReport = report;
  document.getElementById('summary')!.textContent = JSON.stringify(report, null, 2);
  document.body.dataset['status'] = report.error === undefined ? 'done' : 'failed';
}

window.addEventListener('load', () => setTimeout(() => void main(), 0));

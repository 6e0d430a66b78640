import { KERNEL_OPS, type KernelOp } from './byteModel.js';
import type { BenchResult } from './results.js';
import { isLarge, type BenchShape } from './shapes.js';

/** One of issues 7's and 17's targets, judged on this run's numbers (informational: noisy machine). */
export interface TargetVerdict {
  readonly target: string;
  /** `n/a` when a needed measurement is missing (backend unavailable, skipped, failed). */
  readonly status: 'PASS' | 'FAIL' | 'n/a';
  readonly measured: string;
}

/** Anchors (and our native-fused backend) backend-js must beat on large shapes. */
export const RIVALS_OF_JS = ['tfjs-node', 'tfjs-node-composed', 'tfjs-wasm', 'tfjs-cpu'] as const;

/** Issue 7: backend-js with its outputs read back, ratio to the copy. */
const RATIO_TARGETS: readonly [KernelOp, number][] = [
  ['forwardTraining', 6],
  ['backward', 8],
  ['forwardInference', 3],
];

/** Issue 17: backend-js resident, ratio to the copy. */
const RESIDENT_RATIO_TARGETS: readonly [KernelOp, number][] = [
  ['forwardTraining', 2],
  ['backward', 3],
  ['forwardInference', 1.3],
];

function timed(r: BenchResult): r is BenchResult & { medianMs: number } {
  return r.error === undefined && r.medianMs !== undefined;
}

function label(r: BenchResult): string {
  return `${r.layout} [${r.shape?.join(',')}]`;
}

function verdict(target: string, checks: { ok: boolean; text: string }[], missing: string[]): TargetVerdict {
  const parts = [...checks.map((c) => `${c.ok ? '' : '✗ '}${c.text}`), ...missing.map((m) => `missing: ${m}`)];
  const status = checks.length === 0 ? 'n/a' : checks.every((c) => c.ok) ? (missing.length ? 'n/a' : 'PASS') : 'FAIL';
  return { target, status, measured: parts.join('; ') || 'no measurement' };
}

/** Judges every target on `results`; `large` decides which shapes count as large. */
export function judgeTargets(
  results: readonly BenchResult[],
  large: (shape: BenchShape) => boolean = isLarge,
): TargetVerdict[] {
  const kernel = results.filter(
    (r): r is BenchResult & Required<Pick<BenchResult, 'layout' | 'shape'>> =>
      r.op !== 'mnistStep' && r.layout !== undefined && r.shape !== undefined && large({ layout: r.layout, shape: r.shape }),
  );
  // Issue 7's targets were set on read-back times; a result without the field is read back.
  const find = (backend: string, op: string, like: BenchResult, readBack = true) =>
    kernel.find((r) => r.backend === backend && r.op === op && label(r) === label(like) && (r.readBack ?? true) === readBack && timed(r));
  const largeShapes = kernel.filter((r) => r.op === 'copy');
  const verdicts: TargetVerdict[] = [];

  for (const [targets, readBack] of [[RATIO_TARGETS, true], [RESIDENT_RATIO_TARGETS, false]] as const) {
    for (const [op, limit] of targets) {
      const checks: { ok: boolean; text: string }[] = [];
      const missing: string[] = [];
      for (const copy of largeShapes) {
        const js = find('js', op, copy, readBack);
        if (js?.ratioToCopy === undefined) missing.push(label(copy));
        else checks.push({ ok: js.ratioToCopy <= limit, text: `${label(copy)} ${js.ratioToCopy.toFixed(2)}×` });
      }
      const mode = readBack ? 'read back' : 'resident';
      verdicts.push(verdict(`backend-js ${op} ${mode} ≤ ${limit}× copy (large shapes)`, checks, missing));
    }
  }

  {
    // Issue 17: resident backend-js no slower than PyTorch CPU, side by side.
    const checks: { ok: boolean; text: string }[] = [];
    const missing: string[] = [];
    for (const copy of largeShapes) {
      for (const op of KERNEL_OPS) {
        const js = find('js', op, copy, false);
        const torch = find('pytorch', op, copy, false);
        if (js === undefined || torch === undefined) {
          missing.push(`${js === undefined ? 'js' : 'pytorch'} ${op} ${label(copy)}`);
          continue;
        }
        checks.push({
          ok: js.medianMs! <= torch.medianMs!,
          text: `${op} ${label(copy)} js ${js.medianMs!.toFixed(2)} vs pytorch ${torch.medianMs!.toFixed(2)} ms`,
        });
      }
    }
    verdicts.push(verdict('backend-js resident no slower than PyTorch CPU (large shapes)', checks, missing));
  }

  {
    const checks: { ok: boolean; text: string }[] = [];
    const missing: string[] = [];
    for (const copy of largeShapes) {
      for (const op of KERNEL_OPS) {
        const js = find('js', op, copy);
        if (js === undefined || !timed(js)) {
          missing.push(`js ${op} ${label(copy)}`);
          continue;
        }
        const rivals = RIVALS_OF_JS.map((name) => find(name, op, copy)).filter((r) => r !== undefined && timed(r));
        if (rivals.length === 0) continue;
        const fastest = rivals.reduce((a, b) => (a.medianMs! <= b.medianMs! ? a : b));
        checks.push({
          ok: js.medianMs < fastest.medianMs!,
          text: `${op} ${label(copy)} js ${js.medianMs.toFixed(1)} vs ${fastest.backend} ${fastest.medianMs!.toFixed(1)} ms`,
        });
      }
    }
    verdicts.push(verdict(`backend-js faster than every anchor (${RIVALS_OF_JS.join(', ')}) on large shapes, read back`, checks, missing));
  }

  {
    const checks: { ok: boolean; text: string }[] = [];
    const missing: string[] = [];
    for (const copy of largeShapes) {
      for (const op of KERNEL_OPS) {
        const ours = find('tfjs-node', op, copy);
        const composed = find('tfjs-node-composed', op, copy);
        if (ours === undefined || composed === undefined) {
          missing.push(`${op} ${label(copy)}`);
          continue;
        }
        checks.push({
          ok: ours.medianMs! <= composed.medianMs!,
          text: `${op} ${label(copy)} ${ours.medianMs!.toFixed(1)} vs ${composed.medianMs!.toFixed(1)} ms`,
        });
      }
    }
    verdicts.push(verdict('backend-tfjs-node at least as fast as tfjs-node-composed (large shapes, read back)', checks, missing));
  }

  {
    const step = (backend: string) =>
      results.find((r) => r.op === 'mnistStep' && r.variant === 'bn' && r.backend === backend && timed(r));
    const js = step('js');
    const layers = step('tfjs-layers-node');
    const checks =
      js && layers
        ? [{ ok: js.medianMs! <= layers.medianMs!, text: `js ${js.medianMs!.toFixed(2)} vs tfjs-layers-node ${layers.medianMs!.toFixed(2)} ms/step` }]
        : [];
    const missing = [...(js ? [] : ['js']), ...(layers ? [] : ['tfjs-layers-node'])];
    verdicts.push(verdict('MNIST step with BN: backend-js no slower than tfjs-layers-node', checks, missing));
  }
  return verdicts;
}

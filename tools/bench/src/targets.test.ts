import { describe, expect, it } from 'vitest';
import type { BenchResult } from './results.js';
import { judgeTargets } from './targets.js';

const shape = { layout: 'NC', shape: [4096, 4096] } as const;
const r = (backend: string, op: BenchResult['op'], medianMs: number, readBack = true, copyMs = 4): BenchResult => ({
  backend,
  op,
  ...shape,
  readBack,
  medianMs,
  ratioToCopy: medianMs / copyMs,
});

describe('targets', () => {
  const results: BenchResult[] = [
    r('memory', 'copy', 4, false),
    r('js', 'forwardTraining', 20), // 5× ≤ 6×
    r('js', 'forwardInference', 16), // 4× > 3×
    r('js', 'backward', 30), // 7.5× ≤ 8×
    r('js', 'forwardTraining', 7.6, false), // 1.9× ≤ 2×
    r('js', 'forwardInference', 5.6, false), // 1.4× > 1.3×
    r('js', 'backward', 11.6, false), // 2.9× ≤ 3×
    r('pytorch', 'forwardTraining', 8, false),
    r('pytorch', 'forwardInference', 5, false),
    r('pytorch', 'backward', 12, false),
    r('tfjs-node', 'forwardTraining', 25),
    r('tfjs-node', 'forwardInference', 10),
    r('tfjs-node', 'backward', 40),
    r('tfjs-node-composed', 'forwardTraining', 30),
    r('tfjs-node-composed', 'forwardInference', 9),
    r('tfjs-node-composed', 'backward', 200),
    { backend: 'js', op: 'mnistStep', variant: 'bn', readBack: true, medianMs: 5 },
    { backend: 'tfjs-layers-node', op: 'mnistStep', variant: 'bn', readBack: true, medianMs: 6 },
  ];
  const verdicts = judgeTargets(results);
  const status = (prefix: string) => verdicts.find((v) => v.target.startsWith(prefix))?.status;

  it('judges the ratio targets per op, read back (issue 7) and resident (issue 17)', () => {
    expect(status('backend-js forwardTraining read back ≤ 6×')).toBe('PASS');
    expect(status('backend-js backward read back ≤ 8×')).toBe('PASS');
    expect(status('backend-js forwardInference read back ≤ 3×')).toBe('FAIL');
    expect(status('backend-js forwardTraining resident ≤ 2×')).toBe('PASS');
    expect(status('backend-js backward resident ≤ 3×')).toBe('PASS');
    expect(status('backend-js forwardInference resident ≤ 1.3×')).toBe('FAIL');
  });

  it('compares resident js with PyTorch side by side', () => {
    // inference: js 5.6 ms against PyTorch's 5 ms
    expect(status('backend-js resident no slower than PyTorch')).toBe('FAIL');
    expect(verdicts.find((v) => v.target.startsWith('backend-js resident no slower'))?.measured).toContain(
      '✗ forwardInference NC [4096,4096] js 5.60 vs pytorch 5.00 ms',
    );
    const faster = results.map((x) => (x.backend === 'pytorch' ? { ...x, medianMs: x.medianMs! * 2 } : x));
    expect(judgeTargets(faster).find((v) => v.target.startsWith('backend-js resident no slower'))?.status).toBe('PASS');
  });

  it('compares js with the fastest anchor of each op, and tfjs-node with its composition (read back)', () => {
    // inference: js 16 ms against tfjs-node-composed 9 ms (resident js and pytorch do not count)
    expect(status('backend-js faster than every anchor')).toBe('FAIL');
    expect(verdicts.find((v) => v.target.startsWith('backend-js faster'))?.measured).toContain(
      '✗ forwardInference NC [4096,4096] js 16.0 vs tfjs-node-composed 9.0 ms',
    );
    expect(status('backend-tfjs-node at least as fast')).toBe('FAIL');
    expect(status('MNIST step with BN')).toBe('PASS');
  });

  it('says n/a, not PASS, when a measurement is missing', () => {
    const withoutJs = judgeTargets(results.filter((x) => x.backend !== 'js'));
    expect(withoutJs.filter((v) => v.target.startsWith('backend-js')).map((v) => v.status)).toEqual(Array(8).fill('n/a'));
    expect(judgeTargets([]).every((v) => v.status === 'n/a')).toBe(true);
  });
});

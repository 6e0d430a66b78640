import { describe, expect, it } from 'vitest';
import type { BenchResult } from './results.js';
import { judgeTargets } from './targets.js';

const shape = { layout: 'NC', shape: [4096, 4096] } as const;
const r = (backend: string, op: BenchResult['op'], medianMs: number, copyMs = 4): BenchResult => ({
  backend,
  op,
  ...shape,
  medianMs,
  ratioToCopy: medianMs / copyMs,
});

describe('targets', () => {
  const results: BenchResult[] = [
    r('memory', 'copy', 4),
    r('js', 'forwardTraining', 20), // 5× ≤ 6×
    r('js', 'forwardInference', 16), // 4× > 3×
    r('js', 'backward', 30), // 7.5× ≤ 8×
    r('tfjs-node', 'forwardTraining', 25),
    r('tfjs-node', 'forwardInference', 10),
    r('tfjs-node', 'backward', 40),
    r('tfjs-node-composed', 'forwardTraining', 30),
    r('tfjs-node-composed', 'forwardInference', 9),
    r('tfjs-node-composed', 'backward', 200),
    { backend: 'js', op: 'mnistStep', variant: 'bn', medianMs: 5 },
    { backend: 'tfjs-layers-node', op: 'mnistStep', variant: 'bn', medianMs: 6 },
  ];
  const verdicts = judgeTargets(results);
  const status = (prefix: string) => verdicts.find((v) => v.target.startsWith(prefix))?.status;

  it('judges the ratio targets per op', () => {
    expect(status('backend-js forwardTraining ≤ 6×')).toBe('PASS');
    expect(status('backend-js backward ≤ 8×')).toBe('PASS');
    expect(status('backend-js forwardInference ≤ 3×')).toBe('FAIL');
  });

  it('compares js with the fastest anchor of each op, and tfjs-node with its composition', () => {
    // inference: js 16 ms against tfjs-node-composed 9 ms
    expect(status('backend-js faster than every anchor')).toBe('FAIL');
    expect(verdicts.find((v) => v.target.startsWith('backend-js faster'))?.measured).toContain(
      '✗ forwardInference NC [4096,4096] js 16.0 vs tfjs-node-composed 9.0 ms',
    );
    expect(status('backend-tfjs-node at least as fast')).toBe('FAIL');
    expect(status('MNIST step with BN')).toBe('PASS');
  });

  it('says n/a, not PASS, when a measurement is missing', () => {
    const withoutJs = judgeTargets(results.filter((x) => x.backend !== 'js'));
    expect(withoutJs.filter((v) => v.target.startsWith('backend-js')).map((v) => v.status)).toEqual(['n/a', 'n/a', 'n/a', 'n/a']);
    expect(judgeTargets([]).every((v) => v.status === 'n/a')).toBe(true);
  });
});

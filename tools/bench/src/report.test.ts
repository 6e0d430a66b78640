import { describe, expect, it } from 'vitest';
import type { BenchDocument } from './document.js';
import { flattenCounters, renderReport } from './report.js';
import type { BenchResult } from './results.js';

const shape = { layout: 'NC', shape: [4096, 4096] } as const;
const result = (backend: string, op: BenchResult['op'], readBack: boolean, medianMs: number, extra: Partial<BenchResult> = {}): BenchResult => ({
  backend,
  op,
  ...shape,
  readBack,
  medianMs,
  minMs: medianMs,
  maxMs: medianMs,
  rounds: 3,
  spread: 0,
  unstable: false,
  ratioToCopy: medianMs / 4,
  ratioToFloor: medianMs / 4,
  gbPerSecond: 10,
  ...extra,
});

const doc: BenchDocument = {
  schemaVersion: 2,
  machine: { cpus: 2, cpuModel: 'cpu', totalMemoryGiB: 1, node: 'v20', platform: 'linux-x64', loadAverage: [1.5, 1, 0.5] },
  quick: false,
  startedAt: '',
  loadAverageAtEnd: [1.75, 1, 0.5],
  subjects: [{ backend: 'webgpu', details: {}, resident: 'waits for the GPU queue', noSpeedClaim: 'software adapter (llvmpipe)' }],
  results: [
    result('memory', 'copy', false, 4),
    result('js', 'forwardInference', false, 5, { minMs: 4, maxMs: 6, spread: 0.5, unstable: true }),
    result('js', 'forwardInference', true, 9),
    result('pytorch', 'forwardInference', false, 10),
    result('webgpu', 'forwardInference', false, 90, { counters: { kernel: { calls: 1, dispatches: 1, bytesRead: 134_217_760, gpuMs: 'unavailable' }, submits: 1 } }),
  ],
  skipped: [{ backend: 'gpujs', op: 'backward', layout: 'NC', shape: [4096, 4096], readBack: false, reason: 'not timed resident: no wait' }],
  targets: [],
};

describe('the report', () => {
  const text = renderReport(doc);

  it('states the load average at the start and at the end', () => {
    expect(text).toContain('load average 1.50 1.00 0.50 at start, 1.75 1.00 0.50 at end');
  });

  it('shows resident and read-back rows, flags an unstable case and lists it with its rounds', () => {
    expect(text).toMatch(/js\s+resident\s+—\s+5\.00ms 1\.25×c 1\.25×f 10\.0GB\/s ±50%!/);
    expect(text).toMatch(/js\s+read back\s+—\s+9\.00ms/);
    expect(text).toContain('js forwardInference NC [4096,4096] resident: min 4.00ms median 5.00ms max 6.00ms (±50%)');
  });

  it('puts resident times beside PyTorch with the ratio, says when a subject makes no speed claim, and why it has no resident time', () => {
    expect(text).toMatch(/NC \[4096,4096\]\s+forwardInference\s+10\.00ms ±0%\s+5\.00ms \(0\.50\)\s+90\.00ms \(9\.00\)/);
    expect(text).toContain('NO SPEED CLAIM: software adapter (llvmpipe)');
    expect(text).toContain('gpujs resident: not timed resident: no wait');
  });

  it("prints a backend's counters whatever their fields", () => {
    expect(text).toContain('webgpu forwardInference NC [4096,4096] resident: kernel.calls=1 kernel.dispatches=1 kernel.bytesRead=0.134GB kernel.gpuMs=unavailable submits=1');
    expect(flattenCounters({ a: { b: 2, c: { d: 'x' } }, e: true })).toEqual(['a.b=2', 'a.c.d=x', 'e=true']);
  });
});

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeInputs } from '../data.js';
import { choosePython, probeTorch, torchRunner } from './pytorch.js';

/** An executable standing in for python: it prints `stdout` and exits with `status`. */
function fakePython(stdout: string, status = 0): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-fake-python-'));
  const file = path.join(dir, 'python');
  writeFileSync(file, `#!/bin/sh\ncat > /dev/null\necho 'pytorch: progress line' >&2\nprintf '%s' '${stdout}'\nexit ${status}\n`);
  chmodSync(file, 0o755);
  return file;
}

const inputs = makeInputs({ layout: 'NC', shape: [4, 3] });
const log = () => {};

describe('the PyTorch anchor', () => {
  it('uses --python, else $BATCHNORM_BENCH_PYTHON, else python3', () => {
    expect(choosePython('/x/python', { BATCHNORM_BENCH_PYTHON: '/y/python' })).toBe('/x/python');
    expect(choosePython(undefined, { BATCHNORM_BENCH_PYTHON: '/y/python' })).toBe('/y/python');
    expect(choosePython(undefined, {})).toBe('python3');
  });

  it('is skipped with one line saying why and how when the python is missing or has no torch', { timeout: 60_000 }, async () => {
    const missing = await probeTorch('/nonexistent/python3');
    expect(missing).toEqual({ skipped: expect.stringMatching(/^\/nonexistent\/python3 not found: set BATCHNORM_BENCH_PYTHON/) });
    const noTorch = await probeTorch(fakePython('', 1));
    expect('skipped' in noTorch && noTorch.skipped).toMatch(/cannot import torch/);
    expect('skipped' in noTorch && noTorch.skipped.includes('\n')).toBe(false);
  });

  it("turns the script's times into resident results with this run's copy ratios, and its wrong results into errors", async () => {
    const doc = {
      torch: '2.13.0',
      threads: 2,
      results: [
        { op: 'forwardTraining', medianMs: 3, minMs: 2.5, maxMs: 4, samples: 15, rounds: 3 },
        { op: 'backward', error: 'wrong result, not timed: dx[0] = 1, expected 2' },
      ],
    };
    const run = torchRunner({ python: fakePython(JSON.stringify(doc)), version: '2.13.0' }, { threads: 2, quick: true, log });
    const { results, skipped } = await run(inputs, ['forwardTraining', 'backward'], 1.5);
    expect(skipped).toEqual([]);
    expect(results[0]).toMatchObject({
      backend: 'pytorch',
      op: 'forwardTraining',
      layout: 'NC',
      shape: [4, 3],
      readBack: false,
      medianMs: 3,
      minMs: 2.5,
      maxMs: 4,
      rounds: 3,
      unstable: true,
      ratioToCopy: 2,
      samples: 15,
    });
    expect(results[0]!.spread).toBeCloseTo(0.6, 10);
    expect(results[1]).toMatchObject({ backend: 'pytorch', op: 'backward', readBack: false, error: expect.stringMatching(/^wrong result/) });
  });

  it('a child that fails is a skip naming the cause, not a failed run', async () => {
    const run = torchRunner({ python: fakePython('', 3), version: '?' }, { threads: 2, quick: true, log });
    const { results, skipped } = await run(inputs, ['forwardTraining'], 1);
    expect(results).toEqual([]);
    expect(skipped).toEqual([{ backend: 'pytorch', layout: 'NC', shape: [4, 3], reason: expect.stringContaining('exited with 3') }]);
  });

  // Runs the real script when a python with torch is named (not needed in CI).
  const python = process.env.BATCHNORM_BENCH_PYTHON;
  it.skipIf(python === undefined || python === '')('the script checks and times torch.nn.BatchNorm in its three ways of laying out x', async () => {
    const run = torchRunner({ python: python!, version: '' }, { threads: 1, quick: true, log, rounds: 2 });
    // One child per shape, each importing torch (seconds): the three ways the script lays out x.
    for (const shape of [
      { layout: 'NLC', shape: [3, 4, 5] },
      { layout: 'NHWC', shape: [2, 3, 4, 5] },
      { layout: 'NCDHW', shape: [2, 5, 2, 3, 4] },
    ] as const) {
      const { results, skipped } = await run(makeInputs(shape), ['forwardTraining', 'forwardInference', 'backward'], 0.001);
      expect(skipped, shape.layout).toEqual([]);
      expect(results.map((r) => [r.op, r.error]), shape.layout).toEqual([
        ['forwardTraining', undefined],
        ['forwardInference', undefined],
        ['backward', undefined],
      ]);
      for (const r of results) expect(r.rounds).toBe(2);
    }
  }, 600_000);
});

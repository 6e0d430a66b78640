import { createReferenceBackend } from '@batchnorm/core';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../args.js';
import { runBench } from '../bench.js';
import { renderReport } from '../report.js';
import type { SkippedEntry } from '../results.js';
import { runKernels, runSubjectsOnShape } from '../runKernels.js';
import { contractSubject } from '../subjects/contractSubject.js';
import type { ChildSettings, SubjectGroup } from './protocol.js';
import { mergeMnist, startChild, stopSubjectChildren, type ChildOptions } from './subjectChild.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'bench-child-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const settings: ChildSettings = { quick: true, modes: { readBack: true, resident: true } };
const js: SubjectGroup = { kind: 'backend', name: 'js' };
const ops = ['forwardTraining', 'backward'] as const;
const shapes = [
  { layout: 'NC', shape: [4, 3] },
  { layout: 'NHWC', shape: [1, 2, 2, 3] },
] as const;

/**
 * A fake child speaking the protocol: it loads `group.name`, and its cases report the copy they
 * were given (as `counters.copyMs`); `onKernels` runs first on every kernels request.
 */
function fakeChild(onKernels = ''): string {
  const file = path.join(work, `fake-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    file,
    `let name;
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.type === 'load') {
    name = m.group.name;
    process.send({ type: 'log', line: 'loading ' + name });
    process.stderr.write('a library warning\\n');
    process.send({ type: 'load', subjects: [{ backend: name, details: {} }], skipped: [], kernelNames: [name], stepNames: [name] });
  } else if (m.type === 'kernels') {
    ${onKernels}
    const results = m.ops.map((op) => ({ backend: name, op, layout: m.shape.layout, shape: m.shape.shape, readBack: true, medianMs: 1, counters: { copyMs: m.copyMs } }));
    process.send({ type: 'kernels', results, skipped: [] });
  } else if (m.type === 'mnist') {
    process.send({ type: 'mnist', results: ['bn', 'plain'].map((variant) => ({ backend: name, op: 'mnistStep', variant, readBack: true, medianMs: 1 })) });
  } else if (m.type === 'close') {
    process.send({ type: 'close' });
    process.disconnect();
  }
});`,
  );
  return file;
}

function options(entry: string, extra: Partial<ChildOptions> = {}) {
  const lines: string[] = [];
  return { lines, child: { log: (line: string) => lines.push(line), entry, ...extra } };
}

const kernelOptions = { quick: true, log: () => {}, ops };

describe('subjects in child processes: the parent side', () => {
  it('merges each child\'s cases shape by shape, after the copy each was measured against', async () => {
    const { lines, child } = options(fakeChild());
    const a = await startChild(js, settings, child);
    const b = await startChild({ kind: 'backend', name: 'webgpu' }, settings, child);
    try {
      expect(lines).toEqual(expect.arrayContaining(['loading js', 'js: a library warning', 'loading webgpu']));
      expect(a.subjects).toEqual([{ backend: 'js', details: {} }]);
      const { results, skipped } = await runKernels(shapes, [a.kernels, b.kernels], kernelOptions);
      expect(skipped).toEqual([]);
      expect(results.map((r) => `${r.backend} ${r.op} ${r.layout}`)).toEqual([
        'memory copy NC', 'js forwardTraining NC', 'js backward NC', 'webgpu forwardTraining NC', 'webgpu backward NC',
        'memory copy NHWC', 'js forwardTraining NHWC', 'js backward NHWC', 'webgpu forwardTraining NHWC', 'webgpu backward NHWC',
      ]);
      // every case's ratios are against this run's copy of its own shape
      for (const r of results.filter((x) => x.op !== 'copy')) {
        const copy = results.find((x) => x.op === 'copy' && x.layout === r.layout)!;
        expect(r.counters).toEqual({ copyMs: copy.medianMs });
      }
      const mnist = mergeMnist([await a.mnist(), await b.mnist()]);
      expect(mnist.results.map((r) => `${r.backend} ${r.variant}`)).toEqual(['js bn', 'webgpu bn', 'js plain', 'webgpu plain']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a child that dies mid-case fails that case with its exit code and stderr, then skips the rest', async () => {
    const { child } = options(fakeChild(`if (m.shape.layout === 'NHWC') { process.stderr.write('Segmentation fault in dawn\\n'); process.exit(3); }`));
    const a = await startChild(js, settings, child);
    const { results, skipped } = await runKernels([...shapes, { layout: 'NC', shape: [2, 2] }], [a.kernels], kernelOptions);
    const reason = 'its child process exited with code 3: a library warning | Segmentation fault in dawn';
    expect(results.filter((r) => r.layout === 'NHWC' && r.op !== 'copy')).toEqual(
      ops.map((op) => ({ backend: 'js', op, layout: 'NHWC', shape: [1, 2, 2, 3], readBack: true, error: `failed: ${reason}` })),
    );
    expect(results.filter((r) => r.backend === 'js' && r.error === undefined)).toHaveLength(2); // the first shape's
    expect(skipped).toEqual([{ backend: 'js', layout: 'NC', shape: [2, 2], reason: `not run: ${reason}` }]);
    expect(await a.mnist()).toEqual({ results: [], skipped: [{ backend: 'js', op: 'mnistStep', reason: `not run: ${reason}` }] });
    await a.close();
  });

  it('a child killed by a signal, or silent past the timeout, is said so and stopped; a failed request leaves it running', async () => {
    const killed = await startChild(js, settings, options(fakeChild(`process.kill(process.pid, 'SIGKILL');`)).child);
    const [k] = (await killed.kernels({ layout: 'NC', shape: [4, 3] } as never, ['backward'], 1)).results;
    expect(k?.error).toBe('failed: its child process was killed by SIGKILL: a library warning');
    await killed.close();

    const silent = await startChild(js, settings, options(fakeChild(`return;`), { timeoutMs: 300 }).child);
    const [s] = (await silent.kernels({ layout: 'NC', shape: [4, 3] } as never, ['backward'], 1)).results;
    expect(s?.error).toBe('failed: its child process did not answer within 0.3 s and was stopped');
    await silent.close(); // returns: the child was stopped

    const throwing = await startChild(js, settings, options(fakeChild(`if (m.shape.shape[0] === 4) return process.send({ type: 'error', message: 'no adapter' });`)).child);
    const first = await throwing.kernels({ layout: 'NC', shape: [4, 3] } as never, ['backward'], 1);
    const second = await throwing.kernels({ layout: 'NC', shape: [2, 3] } as never, ['backward'], 1);
    expect([first.results[0]?.error, second.results[0]?.error]).toEqual(['failed: no adapter', undefined]);
    await throwing.close();
  });

  it('a child that cannot load is a skip of each of its names, with the reason', async () => {
    const crashing = path.join(work, 'crash-on-load.mjs');
    writeFileSync(crashing, `process.on('message', () => { console.error('libEGL warning: no display'); process.exit(7); });`);
    const tfjs: SubjectGroup = { kind: 'tfjs', engine: 'wasm', kernels: true, layers: true };
    const { lines, child } = options(crashing);
    const group = await startChild(tfjs, settings, child);
    const reason = 'did not load: its child process exited with code 7: libEGL warning: no display';
    expect(group.skipped).toEqual([{ backend: 'tfjs-wasm', reason }, { backend: 'tfjs-layers-wasm', reason }]);
    expect([group.subjects, group.kernelNames, group.stepNames]).toEqual([[], [], []]);
    expect(lines).toContain(`skip tfjs-wasm,tfjs-layers-wasm: ${reason}`);
    const missing = await startChild(js, settings, options(path.join(work, 'no-such-entry.mjs')).child);
    expect(missing.skipped[0]?.reason).toMatch(/^did not load: its child process exited with code 1: .*Error: Cannot find module '.*no-such-entry.mjs'$/);
  });

  it('stopSubjectChildren stops every running child (the bench\'s SIGINT/SIGTERM cleanup)', async () => {
    const a = await startChild(js, settings, options(fakeChild()).child);
    stopSubjectChildren();
    let skipped: readonly SkippedEntry[] = [];
    for (let wait = 0; wait < 50 && skipped.length === 0; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ({ skipped } = await a.kernels({ layout: 'NC', shape: [4, 3] } as never, ['backward'], 1));
    }
    expect(skipped[0]?.reason).toBe('not run: its child process was killed by SIGTERM: a library warning');
    await a.close();
  });
});

describe('runBench with its subjects in children', () => {
  it('assembles the document as in one process: subjects, cases, MNIST steps and skips in order', async () => {
    const onLoad = path.join(work, 'webgpu-crashes-on-load.mjs');
    // registered before the fake's own listener: webgpu's child dies before it answers
    writeFileSync(onLoad, `process.on('message', (m) => { if (m.group?.name === 'webgpu') { console.error('Dawn: no adapter'); process.exit(2); } });\n${readFileSync(fakeChild())}`);
    const options = parseArgs(['--quick', '--only', 'js,gpujs,webgpu', '--shapes', 'NC:4x3', '--ops', 'forwardTraining,mnistStep']);
    const doc = await runBench(options, () => {}, { entry: onLoad });
    expect(doc.subjects.map((s) => s.backend)).toEqual(['js', 'gpujs']);
    expect(doc.results.map((r) => `${r.backend} ${r.op}${r.variant === undefined ? '' : ` ${r.variant}`}`)).toEqual([
      'memory copy', 'js forwardTraining', 'gpujs forwardTraining', 'js mnistStep bn', 'gpujs mnistStep bn', 'js mnistStep plain', 'gpujs mnistStep plain',
    ]);
    const reason = 'did not load: its child process exited with code 2: Dawn: no adapter';
    expect(doc.skipped).toEqual([{ backend: 'webgpu', reason }]);
    expect(renderReport(doc)).toContain(`Skipped:\n  webgpu: ${reason}`);
  });
});

const builtEntry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'remote', 'childMain.js');

describe.runIf(existsSync(builtEntry))('the built child (dist)', () => {
  it('gives the cases the same subject times in this process: same results, skips and ratios to the given copy', async () => {
    const { child } = options(builtEntry);
    const remote = await startChild({ kind: 'backend', name: 'reference' }, settings, child);
    try {
      expect(remote.subjects.map((s) => s.backend)).toEqual(['reference']);
      const local = contractSubject(createReferenceBackend());
      const copyMs = 0.01;
      // NC [300,300] is over the reference's timed limit: a skip, from either side
      for (const shape of [...shapes, { layout: 'NC', shape: [300, 300] } as const]) {
        const there = await remote.kernels({ ...shape } as never, ops, copyMs);
        const here = await runSubjectsOnShape([local], shape, copyMs, { ...kernelOptions, modes: settings.modes });
        expect(there.skipped).toEqual(here.skipped);
        const key = (r: (typeof here.results)[number]) => ({ ...r, medianMs: 0, minMs: 0, maxMs: 0, ratioToCopy: 0, ratioToFloor: 0, gbPerSecond: 0, samples: 0, spread: 0, unstable: false });
        expect(there.results.map(key)).toEqual(here.results.map(key));
        for (const r of there.results) expect(r.ratioToCopy).toBeCloseTo(r.medianMs! / copyMs, 8);
      }
      const mnist = await remote.mnist();
      expect(mnist.results.map((r) => [r.backend, r.variant, r.error])).toEqual([['reference', 'bn', undefined], ['reference', 'plain', undefined]]);
    } finally {
      await remote.close();
    }
  }, 20_000);
});

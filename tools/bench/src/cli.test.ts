import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { BenchDocument } from './document.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const run = promisify(execFile);
/** Runs the CLI expecting it to fail; resolves to the failure (undefined if it succeeded). */
const runFailing = (args: string[]) =>
  run(process.execPath, [cli, ...args]).then(
    () => undefined,
    (e: { code?: number; stderr?: string }) => e,
  );

/** The state field of /proc/PID/stat (after the command name, which may hold spaces). */
function procState(pid: number | string): { state: string; parent: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
    return { state: fields[0]!, parent: Number(fields[1]) };
  } catch {
    return undefined;
  }
}
const childrenOf = (pid: number) => readdirSync('/proc').filter((d) => /^\d+$/.test(d) && procState(d)?.parent === pid).map(Number);
/** Running, not a zombie left unreaped. */
const isRunning = (pid: number) => ![undefined, 'Z', 'X'].includes(procState(pid)?.state);

describe('the CLI (built dist/cli.js)', () => {
  it('--quick --json --only js prints exactly one parseable document', async () => {
    const { stdout } = await run(
      process.execPath,
      [cli, '--quick', '--json', '--only', 'js', '--shapes', 'NC:60x100,NHWC:2x3x3x8'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const doc = JSON.parse(stdout) as BenchDocument;
    expect(doc.schemaVersion).toBe(2);
    expect(doc.machine.cpus).toBeGreaterThan(0);
    expect(doc.loadAverageAtEnd).toHaveLength(3);
    for (const r of doc.results) expect(typeof r.readBack).toBe('boolean');
    expect(doc.machine.node).toBe(process.version);
    // The copy baseline runs on every shape, whatever --only says.
    const copies = doc.results.filter((r) => r.op === 'copy');
    expect(copies.map((r) => `${r.layout}:${r.shape?.join('x')}`)).toEqual(['NC:60x100', 'NHWC:2x3x3x8']);
    for (const copy of copies) expect(copy.medianMs).toBeGreaterThan(0);
    // Only js (or nothing, when its package is missing, with a note saying so).
    const others = doc.results.filter((r) => r.op !== 'copy' && r.backend !== 'js');
    expect(others).toEqual([]);
    const js = doc.results.filter((r) => r.backend === 'js');
    if (js.length === 0) {
      expect(doc.skipped.some((s) => s.backend === 'js')).toBe(true);
    } else {
      // three kernels on two shapes, read back and resident, plus the two MNIST variants
      expect(js).toHaveLength(3 * 2 * 2 + 2);
      expect(js.filter((r) => r.op !== 'mnistStep' && r.readBack === false)).toHaveLength(6);
      for (const r of js) {
        expect(r.error).toBeUndefined();
        expect(r.medianMs).toBeGreaterThan(0);
        expect(r.minMs).toBeLessThanOrEqual(r.maxMs!);
        if (r.op === 'mnistStep') expect(r.ratioToCopy).toBeUndefined();
        else expect(r.ratioToFloor).toBeGreaterThan(0);
      }
    }
    expect(doc.targets.length).toBeGreaterThan(0);
  }, 120_000);

  it('--out FILE writes the same document atomically while stdout keeps the table', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
    const file = path.join(dir, 'bench.json');
    writeFileSync(file, 'an earlier run');
    const { stdout } = await run(process.execPath, [cli, '--quick', '--out', file, '--only', 'js', '--no-mnist', '--shapes', 'NC:60x100'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stdout).toContain('Targets');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as BenchDocument;
    expect(doc.results.some((r) => r.op === 'copy' && r.layout === 'NC')).toBe(true);
    expect(readdirSync(dir)).toEqual(['bench.json']); // no temporary file left beside it
  }, 120_000);

  it('skips PyTorch with one line when its python cannot run, without failing the run', async () => {
    const { stdout } = await run(
      process.execPath,
      [cli, '--quick', '--json', '--only', 'pytorch', '--no-mnist', '--shapes', 'NC:60x100', '--python', '/nonexistent/python3'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const doc = JSON.parse(stdout) as BenchDocument;
    expect(doc.skipped).toEqual([{ backend: 'pytorch', reason: expect.stringMatching(/^\/nonexistent\/python3 not found: set BATCHNORM_BENCH_PYTHON/) }]);
    expect(doc.results.map((r) => r.backend)).toEqual(['memory']);
  }, 120_000);

  it.runIf(process.platform === 'linux')('SIGTERM mid-run stops the subjects\' child processes too, and exits 143', async () => {
    // many rounds: the run is still timing when the signal comes
    const bench = spawn(process.execPath, [cli, '--only', 'reference', '--no-mnist', '--shapes', 'NC:60x100', '--rounds', '1000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve) =>
      bench.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        if (stderr.includes('generating inputs')) resolve(); // the children are loaded by then
      }),
    );
    const children = childrenOf(bench.pid!);
    expect(children.length).toBeGreaterThan(0);
    bench.kill('SIGTERM');
    const status = await new Promise<number | null>((resolve) => bench.on('close', resolve));
    expect(status).toBe(143);
    for (let wait = 0; wait < 50 && children.some(isRunning); wait++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(children.filter(isRunning)).toEqual([]);
  }, 60_000);

  it('refuses an --out path it could not write before running anything', async () => {
    // a missing directory is made (even as root), so the path runs through a file instead
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-out-')), 'a-file');
    writeFileSync(file, '');
    const error = await runFailing(['--out', path.join(file, 'bench.json')]);
    expect(error?.code).toBe(2);
    expect(error?.stderr).toContain(`batchnorm-bench: error: --out: expected a file path it can write`);
    expect(error?.stderr).toContain(`${file} is not a directory`);
  }, 60_000);

  it('says an unknown option in the shared error form', async () => {
    const error = await runFailing(['--frobnicate']);
    expect(error?.code).toBe(2);
    expect(error?.stderr).toBe(`batchnorm-bench: error: unknown option "--frobnicate"\nUsage: batchnorm-bench [options]\nRun 'batchnorm-bench --help' for the options.\n`);
  }, 60_000);

  it('rejects an unknown backend name with a usage message and exit status 2', async () => {
    const error = await runFailing(['--only', 'nope']);
    expect(error?.code).toBe(2);
    expect(error?.stderr).toContain('batchnorm-bench: error: --only: expected names among js');
  }, 60_000); // a cold Node start that loads TensorFlow.js takes seconds on a busy machine
});

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import { PYTORCH_NAME, firstLine } from '../names.js';
import { planTable } from '../plan.js';
import type { BenchResult, SkippedEntry } from '../results.js';
import { timingFields, type ShapeRunner } from '../runKernels.js';

/** The environment variable naming the python to run it with (else `python3`). */
export const PYTHON_ENV = 'BATCHNORM_BENCH_PYTHON';
/** The script the child process runs (shipped beside src/ and dist/). */
export const TORCH_SCRIPT = fileURLToPath(new URL('../../python/torch_bench.py', import.meta.url));

export interface TorchAnchor {
  readonly python: string;
  readonly version: string;
}

/** The python to use: `--python`, else `$BATCHNORM_BENCH_PYTHON`, else `python3`. */
export function choosePython(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env[PYTHON_ENV] || 'python3');
}

/** Whether `python` imports torch: its version, or why not (one line, with the fix). */
export function probeTorch(python: string): Promise<TorchAnchor | { skipped: string }> {
  const hint = `set ${PYTHON_ENV} or --python to a python that has torch (tools/bench/README.md, "PyTorch anchor")`;
  return new Promise((resolve) => {
    const child = execFile(python, ['-c', 'import torch; print(torch.__version__)'], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ python, version: stdout.trim() });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? `${python} not found`
          : `${python} cannot import torch (${stderr.trim().split('\n').pop()?.slice(0, 120) || firstLine(error)})`;
      resolve({ skipped: `${why}: ${hint}` });
    });
    child.stdin?.on('error', () => {}).end(); // nothing to read: a python waiting on stdin ends
  });
}

/** What the script prints for one op. */
interface TorchCase {
  readonly op: KernelOp;
  readonly medianMs?: number;
  readonly minMs?: number;
  readonly maxMs?: number;
  readonly samples?: number;
  readonly rounds?: number;
  readonly error?: string;
}

/** Runs the script on one job; resolves to its document, rejects with why it failed. */
function runScript(python: string, job: unknown, log: (line: string) => void): Promise<{ torch: string; threads: number; results: TorchCase[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [TORCH_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      for (const line of text.split('\n')) if (line.startsWith('pytorch: ')) log(line);
    });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (status !== 0) {
        const last = stderr.trim().split('\n').filter((l) => !l.startsWith('pytorch: ')).pop() ?? '';
        reject(new Error(`${TORCH_SCRIPT} exited with ${signal ?? status}${last ? `: ${last.slice(0, 200)}` : ''}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as { torch: string; threads: number; results: TorchCase[] });
      } catch (error) {
        reject(new Error(`${TORCH_SCRIPT} printed no JSON document (${firstLine(error)})`));
      }
    });
    child.stdin.on('error', () => {}); // a child that dies early: 'close' says why
    child.stdin.end(JSON.stringify(job));
  });
}

/**
 * Times PyTorch CPU on each shape in a child process (never alongside our own timing: the
 * machine's cores are the resource measured), with `threads` threads, the bench's plan table
 * and tolerance; its results are resident (PyTorch's tensors live in host memory: nothing to
 * read back), with the same ratios as ours against this run's copy.
 */
export function torchRunner(
  anchor: TorchAnchor,
  options: { readonly threads: number; readonly quick: boolean; readonly rounds?: number; readonly log: (line: string) => void },
): ShapeRunner {
  return async (inputs: KernelInputs, ops: readonly KernelOp[], copyMs: number) => {
    const where = (op: KernelOp) => ({ backend: PYTORCH_NAME, op, layout: inputs.layout, shape: [...inputs.shape], readBack: false }) as const;
    const job = {
      layout: inputs.layout,
      shape: inputs.shape,
      ops,
      threads: options.threads,
      epsilon: inputs.epsilon,
      plans: planTable(options.quick),
      ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
    };
    const results: BenchResult[] = [];
    const skipped: SkippedEntry[] = [];
    try {
      const doc = await runScript(anchor.python, job, options.log);
      for (const c of doc.results) {
        if (c.error !== undefined || c.medianMs === undefined) {
          results.push({ ...where(c.op), error: c.error ?? 'failed: no time reported' });
          continue;
        }
        const m = { medianMs: c.medianMs, minMs: c.minMs ?? c.medianMs, maxMs: c.maxMs ?? c.medianMs, samples: c.samples ?? 0, rounds: c.rounds ?? 1 };
        const spread = m.rounds >= 2 && m.minMs > 0 ? { spread: m.maxMs / m.minMs - 1 } : {};
        results.push({ ...where(c.op), ...timingFields(c.op, inputs, { ...m, ...spread }, copyMs) });
      }
    } catch (error) {
      // The anchor is optional: a child that cannot run is a skip, not a failure of the run.
      skipped.push({ backend: PYTORCH_NAME, layout: inputs.layout, shape: [...inputs.shape], reason: firstLine(error) });
    }
    return { results, skipped };
  };
}

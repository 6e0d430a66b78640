import os from 'node:os';
import type { CliOptions } from './args.js';
import { SCHEMA_VERSION, machineInfo, type BenchDocument } from './document.js';
import { ANCHOR_ENGINES, OUR_BACKENDS, PYTORCH_NAME, TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from './names.js';
import type { SubjectGroup } from './remote/protocol.js';
import { mergeMnist, startChild, type ChildOptions, type RemoteGroup } from './remote/subjectChild.js';
import type { BenchResult, SkippedEntry, SubjectInfo } from './results.js';
import { runKernels, type ShapeRunner } from './runKernels.js';
import { choosePython, probeTorch, torchRunner } from './subjects/pytorch.js';
import { judgeTargets } from './targets.js';

function formatLoad(load: readonly number[]): string {
  return load.map((l) => l.toFixed(2)).join(' ');
}

/** The child process groups a run needs: our backends in report order, then each tfjs engine's anchors. */
export function subjectGroups(wanted: (name: string) => boolean): SubjectGroup[] {
  const groups: SubjectGroup[] = OUR_BACKENDS.filter(wanted).map((name) => ({ kind: 'backend', name }));
  for (const engine of ANCHOR_ENGINES) {
    const kernels = wanted(TFJS_ANCHOR_NAMES[engine]);
    const layers = wanted(TFJS_LAYERS_NAMES[engine]);
    if (kernels || layers) groups.push({ kind: 'tfjs', engine, kernels, layers });
  }
  return groups;
}

/**
 * Runs the whole benchmark and returns the document. Each backend and each tfjs engine runs in a
 * child process of its own (one GPU context per process: headless-gl's and Dawn's cannot share
 * one), PyTorch in another; this process measures the copy of each shape and asks each child in
 * turn for its cases, so nothing else runs while one times.
 */
export async function runBench(options: CliOptions, log: (line: string) => void, childOptions: Omit<ChildOptions, 'log'> = {}): Promise<BenchDocument> {
  const machine = machineInfo();
  log(`load average ${formatLoad(machine.loadAverage)} (1, 5, 15 min) on ${machine.cpus} CPUs at the start`);
  const startedAt = new Date().toISOString();
  const wanted = (name: string) => options.only === undefined || options.only.has(name);
  const skipped: SkippedEntry[] = [];
  const subjects: SubjectInfo[] = [];
  const results: BenchResult[] = [];
  const children: RemoteGroup[] = [];
  const settings = { quick: options.quick, modes: options.modes, ...(options.rounds === undefined ? {} : { rounds: options.rounds }) };
  try {
    // started one at a time: loading is not timed, and a backend's own log lines stay together
    for (const group of subjectGroups(wanted)) {
      const child = await startChild(group, settings, { ...childOptions, log });
      children.push(child);
      subjects.push(...child.subjects);
      skipped.push(...child.skipped);
    }

    // PyTorch: optional, in a child process, with backend-js's thread count unless told.
    let afterSubjects: ShapeRunner | undefined;
    if (wanted(PYTORCH_NAME)) {
      const python = choosePython(options.python);
      const anchor = await probeTorch(python);
      if ('skipped' in anchor) {
        skipped.push({ backend: PYTORCH_NAME, reason: anchor.skipped });
        log(`skip ${PYTORCH_NAME}: ${anchor.skipped}`);
      } else {
        const jsThreads = subjects.find((s) => s.backend === 'js')?.details.threads;
        const threads = options.torchThreads ?? (typeof jsThreads === 'number' ? jsThreads : os.availableParallelism());
        subjects.push({
          backend: PYTORCH_NAME,
          details: { torch: anchor.version, python: anchor.python, threads, module: 'torch.nn.BatchNorm1d/2d/3d', channelsLast: 'channels_last memory format' },
          resident: 'synchronous CPU ops (tensors live in host memory: no read-back form)',
        });
        afterSubjects = torchRunner(anchor, { threads, quick: options.quick, log, ...(options.rounds === undefined ? {} : { rounds: options.rounds }) });
      }
    }

    const kernels = await runKernels(
      options.shapes,
      children.map((c) => c.kernels),
      { ...settings, log, ops: options.ops, ...(afterSubjects === undefined ? {} : { afterSubjects }) },
    );
    results.push(...kernels.results);
    skipped.push(...kernels.skipped);
    if (options.mnist) {
      const steps = [];
      for (const child of children) steps.push(await child.mnist());
      const merged = mergeMnist(steps);
      results.push(...merged.results);
      skipped.push(...merged.skipped);
    }
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
  const loadAverageAtEnd = os.loadavg();
  log(`load average ${formatLoad(loadAverageAtEnd)} (1, 5, 15 min) at the end`);
  return { schemaVersion: SCHEMA_VERSION, machine, quick: options.quick, startedAt, loadAverageAtEnd, subjects, results, skipped, targets: judgeTargets(results) };
}

/** True when any backend computed a wrong result or failed: the run's exit status. */
export function hasFailures(doc: BenchDocument): boolean {
  return doc.results.some((r) => r.error !== undefined);
}

import os from 'node:os';
import type { CliOptions } from './args.js';
import { SCHEMA_VERSION, machineInfo, type BenchDocument } from './document.js';
import type { BenchResult, SkippedEntry, SubjectInfo } from './results.js';
import { runKernels, type ShapeRunner } from './runKernels.js';
import { runMnist, type StepSubject } from './runMnist.js';
import { contractSubject } from './subjects/contractSubject.js';
import { ANCHOR_ENGINES, OUR_BACKENDS, PYTORCH_NAME, TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from './names.js';
import { inLoadOrder } from './subjects/load.js';
import { loadAnchor, loadOurBackend } from './subjects/load.js';
import { choosePython, probeTorch, torchRunner } from './subjects/pytorch.js';
import { contractStepSubject, tfjsLayersSubject } from './subjects/stepSubjects.js';
import type { KernelSubject } from './subjects/subject.js';
import { judgeTargets } from './targets.js';

function formatLoad(load: readonly number[]): string {
  return load.map((l) => l.toFixed(2)).join(' ');
}

/** Runs the whole benchmark in this process (PyTorch in a child) and returns the document. */
export async function runBench(options: CliOptions, log: (line: string) => void): Promise<BenchDocument> {
  const machine = machineInfo();
  log(`load average ${formatLoad(machine.loadAverage)} (1, 5, 15 min) on ${machine.cpus} CPUs at the start`);
  const startedAt = new Date().toISOString();
  const wanted = (name: string) => options.only === undefined || options.only.has(name);
  const skipped: SkippedEntry[] = [];
  const subjects: SubjectInfo[] = [];
  const kernelSubjects: KernelSubject[] = [];
  const stepSubjects: StepSubject[] = [];
  const anchorSubjects: KernelSubject[] = [];
  const destroyers: (() => void)[] = [];
  const describe = (s: KernelSubject): SubjectInfo => ({
    backend: s.name,
    details: s.details,
    ...(s.resident === undefined ? {} : { resident: s.resident }),
    ...(s.noSpeedClaim === undefined ? {} : { noSpeedClaim: s.noSpeedClaim }),
  });

  // Created in load order (native bindings first: TensorFlow's crashes the process when it
  // loads after headless-gl's), reported in the list's order.
  const created = new Map<string, Awaited<ReturnType<typeof loadOurBackend>>>();
  for (const name of await inLoadOrder(OUR_BACKENDS.filter(wanted))) created.set(name, await loadOurBackend(name));
  for (const name of OUR_BACKENDS.filter(wanted)) {
    const loaded = created.get(name)!;
    if ('skipped' in loaded) {
      // Measured under xvfb-run: alone, webgpu gets its adapter; after gpujs's headless-gl
      // context in the same process, Dawn's eglMakeCurrent fails (EGL_BAD_ACCESS).
      const gpujs = created.get('gpujs');
      const glFirst = name === 'webgpu' && gpujs !== undefined && 'subject' in gpujs && gpujs.subject.backend.details.mode !== 'cpu';
      const reason = glFirst ? `${loaded.skipped} [gpujs's GL context is in this process: run pnpm bench --only webgpu on its own]` : loaded.skipped;
      skipped.push({ backend: name, reason });
      log(`skip ${name}: ${reason}`);
      continue;
    }
    const { backend, restore, residence } = loaded.subject;
    const subject = contractSubject(backend, restore, residence);
    kernelSubjects.push(subject);
    stepSubjects.push(contractStepSubject(backend, restore));
    subjects.push(describe(subject));
    destroyers.push(() => backend.destroy());
  }
  for (const engine of ANCHOR_ENGINES) {
    const kernelName = TFJS_ANCHOR_NAMES[engine];
    const layersName = TFJS_LAYERS_NAMES[engine];
    if (!wanted(kernelName) && !wanted(layersName)) continue;
    const loaded = await loadAnchor(engine);
    if ('skipped' in loaded) {
      for (const name of [kernelName, layersName].filter(wanted)) skipped.push({ backend: name, reason: loaded.skipped });
      log(`skip ${kernelName}: ${loaded.skipped}`);
      continue;
    }
    subjects.push(describe(loaded.subject));
    if (wanted(kernelName)) anchorSubjects.push(loaded.subject);
    if (wanted(layersName)) stepSubjects.push(tfjsLayersSubject(engine));
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
      const jsThreads = kernelSubjects.find((s) => s.name === 'js')?.details.threads;
      const threads = options.torchThreads ?? (typeof jsThreads === 'number' ? jsThreads : os.availableParallelism());
      subjects.push({
        backend: PYTORCH_NAME,
        details: { torch: anchor.version, python: anchor.python, threads, module: 'torch.nn.BatchNorm1d/2d/3d', channelsLast: 'channels_last memory format' },
        resident: 'synchronous CPU ops (tensors live in host memory: no read-back form)',
      });
      afterSubjects = torchRunner(anchor, { threads, quick: options.quick, log, ...(options.rounds === undefined ? {} : { rounds: options.rounds }) });
    }
  }

  const results: BenchResult[] = [];
  try {
    const kernels = await runKernels(options.shapes, [...kernelSubjects, ...anchorSubjects], {
      quick: options.quick,
      log,
      ops: options.ops,
      modes: options.modes,
      ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
      ...(afterSubjects === undefined ? {} : { afterSubjects }),
    });
    results.push(...kernels.results);
    skipped.push(...kernels.skipped);
    if (options.mnist) results.push(...(await runMnist(stepSubjects, { quick: options.quick, log })));
  } finally {
    for (const destroy of destroyers) {
      try {
        destroy();
      } catch {
        // a backend that cannot tear down cleanly must not hide the results
      }
    }
  }
  const loadAverageAtEnd = os.loadavg();
  log(`load average ${formatLoad(loadAverageAtEnd)} (1, 5, 15 min) at the end`);
  return { schemaVersion: SCHEMA_VERSION, machine, quick: options.quick, startedAt, loadAverageAtEnd, subjects, results, skipped, targets: judgeTargets(results) };
}

/** True when any backend computed a wrong result or failed: the run's exit status. */
export function hasFailures(doc: BenchDocument): boolean {
  return doc.results.some((r) => r.error !== undefined);
}

import os from 'node:os';
import type { CliOptions } from './args.js';
import { machineInfo, type BenchDocument } from './document.js';
import type { BenchResult, SkippedEntry, SubjectInfo } from './results.js';
import { runKernels } from './runKernels.js';
import { runMnist, type StepSubject } from './runMnist.js';
import { contractSubject } from './subjects/contractSubject.js';
import { ANCHOR_ENGINES, OUR_BACKENDS, TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from './names.js';
import { inLoadOrder } from './subjects/load.js';
import { loadAnchor, loadOurBackend } from './subjects/load.js';
import { contractStepSubject, tfjsLayersSubject } from './subjects/stepSubjects.js';
import type { KernelSubject } from './subjects/subject.js';
import { judgeTargets } from './targets.js';

/** Runs the whole benchmark in this process and returns the document. */
export async function runBench(options: CliOptions, log: (line: string) => void): Promise<BenchDocument> {
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const wanted = (name: string) => options.only === undefined || options.only.has(name);
  const skipped: SkippedEntry[] = [];
  const subjects: SubjectInfo[] = [];
  const kernelSubjects: KernelSubject[] = [];
  const stepSubjects: StepSubject[] = [];
  const anchorSubjects: KernelSubject[] = [];
  const destroyers: (() => void)[] = [];

  // Created in load order (native bindings first: TensorFlow's crashes the process when it
  // loads after headless-gl's), reported in the list's order.
  const created = new Map<string, Awaited<ReturnType<typeof loadOurBackend>>>();
  for (const name of await inLoadOrder(OUR_BACKENDS.filter(wanted))) created.set(name, await loadOurBackend(name));
  for (const name of OUR_BACKENDS.filter(wanted)) {
    const loaded = created.get(name)!;
    if ('skipped' in loaded) {
      skipped.push({ backend: name, reason: loaded.skipped });
      log(`skip ${name}: ${loaded.skipped}`);
      continue;
    }
    const { backend, restore } = loaded.subject;
    kernelSubjects.push(contractSubject(backend, restore));
    stepSubjects.push(contractStepSubject(backend, restore));
    subjects.push({ backend: backend.name, details: backend.details });
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
    subjects.push({ backend: kernelName, details: loaded.subject.details });
    if (wanted(kernelName)) anchorSubjects.push(loaded.subject);
    if (wanted(layersName)) stepSubjects.push(tfjsLayersSubject(engine));
  }

  const results: BenchResult[] = [];
  try {
    const kernels = await runKernels(options.shapes, [...kernelSubjects, ...anchorSubjects], { quick: options.quick, log });
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
  return { machine, quick: options.quick, startedAt, loadAverageAtEnd: os.loadavg(), subjects, results, skipped, targets: judgeTargets(results) };
}

/** True when any backend computed a wrong result or failed: the run's exit status. */
export function hasFailures(doc: BenchDocument): boolean {
  return doc.results.some((r) => r.error !== undefined);
}

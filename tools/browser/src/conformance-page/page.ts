import type { Backend, ToleranceProfileName } from '@batchnorm/core';
import {
  buildGrid,
  checkErrors,
  checkGradients,
  checkRunningStats,
  gradientCheckCases,
  parseVectorFile,
  runningStatsCases,
  runSuite,
  type CaseResult,
} from '@batchnorm/conformance';
// the main entry is browser-safe: the vectors come in as JSON, not from a file system
import shippedVectors from '@batchnorm/conformance/vectors/conformance-vectors.json';
import type { CaseRow, ConformanceReport } from '../report.js';

/** Where the test reads the report (`page.evaluate`). */
const published = window as unknown as { batchnormReport?: ConformanceReport };

function cell(row: HTMLTableRowElement, text: string, className = ''): void {
  const td = row.insertCell();
  td.textContent = text;
  if (className !== '') td.className = className;
}

function publish(report: ConformanceReport): void {
  published.batchnormReport = report;
  const summary = document.getElementById('summary')!;
  summary.textContent =
    `${report.backend}, crossOriginIsolated ${String(report.crossOriginIsolated)}, details ${JSON.stringify(report.details)}: ` +
    (report.error ?? `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
  document.body.dataset['status'] = report.error === undefined && report.failed === 0 ? 'passed' : 'failed';
}

export interface PageBackend {
  readonly name: string;
  readonly profile: ToleranceProfileName;
  create(): Backend;
  /** After the suite: a large tensor through the backend, and how many chunks helper threads ran. */
  helperChunks?(backend: Backend): Promise<number>;
  /** The backend's own checks after the suite's, as rows of the report. */
  extraChecks?(): CaseResult[];
}

/**
 * The conformance suite in the page: the quick grid, the shipped vectors, then the layer-level
 * checks (running statistics, gradients, errors), one case at a time so the page paints.
 */
export async function runConformancePage(spec: PageBackend): Promise<void> {
  document.title = `conformance: ${spec.name}`;
  document.getElementById('title')!.textContent = `@batchnorm/conformance in the browser: ${spec.name}`;
  const tbody = document.querySelector('#report tbody') as HTMLTableSectionElement;
  const cases: CaseRow[] = [];
  const grid = buildGrid('quick');
  const vectors = parseVectorFile(shippedVectors, 'conformance-vectors.json');
  let details: Record<string, unknown> = {};
  const base = { backend: spec.name, crossOriginIsolated: globalThis.crossOriginIsolated, gridCases: grid.length, vectorCases: vectors.length };
  const tally = (): Pick<ConformanceReport, 'passed' | 'failed' | 'skipped'> => ({
    passed: cases.filter((c) => c.passed && !c.skipped).length,
    failed: cases.filter((c) => !c.passed).length,
    skipped: cases.filter((c) => c.skipped).length,
  });
  let last = performance.now();
  const onResult = (r: CaseResult): void => {
    const now = performance.now();
    const row: CaseRow = { name: r.case, passed: r.pass, skipped: r.skipped === true, ms: Math.round(now - last), detail: r.pass && r.skipped !== true ? '' : (r.message ?? '') };
    last = now;
    cases.push(row);
    const tr = tbody.insertRow();
    cell(tr, row.name);
    cell(tr, row.skipped ? 'skipped' : row.passed ? 'pass' : 'FAIL', row.passed ? 'pass' : 'fail');
    cell(tr, String(row.ms));
    cell(tr, row.detail);
  };
  let backend: Backend | undefined;
  try {
    backend = spec.create();
    details = JSON.parse(JSON.stringify(backend.details)) as Record<string, unknown>;
    for (const c of [...grid, ...vectors]) {
      await runSuite(backend, { cases: [c], checks: false, onResult, profile: spec.profile });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // The layer-level checks, as runSuite runs them, but the error check gets a second instance
    // (the scenarios that hand a backend another instance's tensor would be skipped without it).
    const options = { profile: spec.profile, backendName: spec.name };
    for (const c of runningStatsCases()) onResult(await checkRunningStats(backend, c, options));
    for (const c of gradientCheckCases()) for (const r of await checkGradients(backend, c, options)) onResult(r);
    for (const r of await checkErrors(backend, { backendName: spec.name, createBackend: spec.create })) onResult(r);
    for (const r of spec.extraChecks?.() ?? []) onResult(r);
    const helperChunks = spec.helperChunks === undefined ? undefined : await spec.helperChunks(backend);
    publish({ ...base, details, cases, ...tally(), ...(helperChunks === undefined ? {} : { helperChunks }) });
  } catch (error) {
    publish({ ...base, details, cases, ...tally(), error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  } finally {
    backend?.destroy();
  }
}

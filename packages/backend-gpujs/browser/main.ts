import { buildGrid, parseVectorFile, runSuite, type CaseResult, type ConformanceCase } from '@batchnorm/conformance';
import shippedVectors from '@batchnorm/conformance/vectors/conformance-vectors.json';
import { backendModule, createBackend, type GpuJsBackend, type GpuJsModeOption } from '../src/index.js';
import type { BrowserCaseResult, BrowserReport } from './report.js';
import { checkTrainingStep } from './trainingStepCase.js';

declare global {
  interface Window {
    batchnormReport?: BrowserReport;
  }
}

const SUITE = 'conformance: quick grid + checks + shipped vectors';

function cell(row: HTMLTableRowElement, text: string, className = ''): void {
  const td = row.insertCell();
  td.textContent = text;
  if (className !== '') td.className = className;
}

function publish(report: BrowserReport): void {
  window.batchnormReport = report;
  const summary = document.getElementById('summary');
  if (summary !== null) {
    summary.textContent =
      report.error ?? `backend ${report.backend}, mode ${report.mode}: ${report.passed} passed, ${report.failed} failed (${report.suite})`;
  }
  document.body.dataset['status'] = report.error === undefined && report.failed === 0 ? 'passed' : 'failed';
}

async function main(): Promise<void> {
  const requested = new URLSearchParams(location.search).get('mode') ?? 'auto';
  let backend: GpuJsBackend;
  try {
    // resolveMode checks the string: an unknown mode is refused with a BatchNormError.
    backend = createBackend({ mode: requested as GpuJsModeOption });
  } catch (error) {
    publish({ backend: 'gpujs', mode: 'none', suite: SUITE, cases: [], passed: 0, failed: 0, error: String(error) });
    return;
  }
  const profile = backendModule.traits.tolerance;
  const tbody = document.querySelector('#report tbody') as HTMLTableSectionElement;
  const cases: BrowserCaseResult[] = [];
  let last = performance.now();
  // Failures first in the table would hide progress; rows go in order, failures stand out in red.
  const onResult = (r: CaseResult): void => {
    const now = performance.now();
    const result = { name: r.case, passed: r.pass, ms: Math.round(now - last), detail: r.pass && r.op !== 'trainingStep' ? '' : (r.message ?? '') };
    last = now;
    cases.push(result);
    const row = tbody.insertRow();
    cell(row, result.name);
    cell(row, r.skipped === true ? 'skipped' : r.pass ? 'pass' : 'FAIL', r.pass ? 'pass' : 'fail');
    cell(row, String(result.ms));
    cell(row, result.detail);
  };
  try {
    const grid: readonly ConformanceCase[] = buildGrid('quick');
    const vectors = parseVectorFile(shippedVectors, 'conformance-vectors.json');
    // One case at a time, yielding between them so the page paints its progress.
    for (const c of [...grid, ...vectors]) {
      await runSuite(backend, { cases: [c], checks: false, onResult, profile });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // The layer-level checks: running statistics, gradient check, error check.
    await runSuite(backend, { cases: [], checks: true, onResult, profile });
    const step = checkTrainingStep(backend.mode);
    onResult({
      backend: backend.name,
      case: 'MLP training step: no read-back until the final read',
      op: 'trainingStep',
      pass: step.passed,
      maxAbsError: 0,
      maxRelError: 0,
      message: step.detail,
    });
  } catch (error) {
    const passed = cases.filter((c) => c.passed).length;
    publish({ backend: backend.name, mode: backend.mode, suite: SUITE, cases, passed, failed: cases.length - passed, error: String(error) });
    return;
  }
  const passed = cases.filter((c) => c.passed).length;
  publish({ backend: backend.name, mode: backend.mode, suite: SUITE, cases, passed, failed: cases.length - passed });
  backend.destroy();
}

// Start after the load event, so the page counts as loaded while the suite runs.
window.addEventListener('load', () => setTimeout(() => void main(), 0));

import { createBackend } from '../src/index.js';
import { GRID } from './grid.js';
import type { BrowserCaseResult, BrowserReport } from './report.js';

declare global {
  interface Window {
    batchnormReport?: BrowserReport;
  }
}

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
  let backend;
  try {
    backend = createBackend({ mode: requested as 'auto' });
  } catch (error) {
    publish({ backend: 'gpujs', mode: 'none', suite: 'grid', cases: [], passed: 0, failed: 0, error: String(error) });
    return;
  }
  const tbody = document.querySelector('#report tbody') as HTMLTableSectionElement;
  const cases: BrowserCaseResult[] = [];
  for (const c of GRID) {
    const start = performance.now();
    let failures: string[];
    try {
      failures = c.run(backend);
    } catch (error) {
      failures = [`threw: ${String(error)}`];
    }
    const result = { name: c.name, passed: failures.length === 0, ms: Math.round(performance.now() - start), detail: failures.join('; ') };
    cases.push(result);
    const row = tbody.insertRow();
    cell(row, result.name);
    cell(row, result.passed ? 'pass' : 'FAIL', result.passed ? 'pass' : 'fail');
    cell(row, String(result.ms));
    cell(row, result.detail);
    // Let the page paint between cases.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const passed = cases.filter((c) => c.passed).length;
  publish({ backend: backend.name, mode: backend.mode, suite: 'grid', cases, passed, failed: cases.length - passed });
  backend.destroy();
}

void main();

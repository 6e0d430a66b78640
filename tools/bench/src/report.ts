import { KERNEL_OPS } from './byteModel.js';
import type { BenchDocument } from './document.js';
import type { BenchResult } from './results.js';

function cell(r: BenchResult | undefined): string {
  if (r === undefined) return '—';
  if (r.error !== undefined) return r.error.startsWith('wrong') ? 'WRONG (not timed)' : 'FAILED';
  const ratio = r.ratioToCopy === undefined ? '' : ` ${r.ratioToCopy.toFixed(1)}×`;
  const rate = r.gbPerSecond === undefined ? '' : ` ${r.gbPerSecond.toFixed(1)}GB/s`;
  return `${formatMs(r.medianMs!)}${ratio}${rate}`;
}

export function formatMs(ms: number): string {
  if (ms < 0.1) return `${(ms * 1000).toFixed(1)}µs`;
  return ms >= 100 ? `${ms.toFixed(0)}ms` : ms >= 1 ? `${ms.toFixed(2)}ms` : `${ms.toFixed(3)}ms`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The report for people: one table per shape, the MNIST steps, failures, skips and targets. */
export function renderReport(doc: BenchDocument): string {
  const out: string[] = [];
  const { machine } = doc;
  out.push(
    `batchnorm bench — ${machine.cpus}× ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}, ` +
      `load ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')} at start, ${doc.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')} at end${doc.quick ? ' (--quick)' : ''}`,
  );
  out.push('cells: median time, ratio to the Float32Array.set copy of the same tensor, GB/s by the byte model');
  for (const subject of doc.subjects) {
    const facts = Object.entries(subject.details).map(([k, v]) => `${k}=${v}`).join(' ');
    if (facts) out.push(`  ${subject.backend}: ${facts}`);
  }
  const copies = doc.results.filter((r) => r.op === 'copy');
  for (const copy of copies) {
    const same = (r: BenchResult) => r.layout === copy.layout && r.shape?.join() === copy.shape?.join();
    const here = doc.results.filter((r) => same(r) && r.op !== 'copy');
    const backends = [...new Set(here.map((r) => r.backend))];
    out.push('', `${copy.layout} [${copy.shape?.join(',')}] — copy ${cell(copy)}`);
    if (backends.length === 0) continue;
    out.push(
      table(
        ['backend', ...KERNEL_OPS],
        backends.map((b) => [b, ...KERNEL_OPS.map((op) => cell(here.find((r) => r.backend === b && r.op === op)))]),
      ),
    );
  }
  const steps = doc.results.filter((r) => r.op === 'mnistStep');
  if (steps.length > 0) {
    out.push('', 'MNIST training step (784-100-100-100-10 sigmoid, batch 60), median per step');
    const backends = [...new Set(steps.map((r) => r.backend))];
    out.push(
      table(
        ['backend', 'with BN', 'plain'],
        backends.map((b) => [b, ...(['bn', 'plain'] as const).map((v) => cell(steps.find((r) => r.backend === b && r.variant === v)))]),
      ),
    );
  }
  const failures = doc.results.filter((r) => r.error !== undefined);
  if (failures.length > 0) {
    out.push('', 'FAILURES (the run exits non-zero):');
    for (const f of failures) {
      const where = f.op === 'mnistStep' ? `mnistStep ${f.variant}` : `${f.op} ${f.layout} [${f.shape?.join(',')}]`;
      out.push(`  ${f.backend} ${where}: ${f.error}`);
    }
  }
  if (doc.skipped.length > 0) {
    out.push('', 'Skipped:');
    const seen = new Set<string>();
    for (const s of doc.skipped) {
      const text = `  ${s.backend}${s.layout ? ` ${s.layout} [${s.shape?.join(',')}]` : ''}: ${s.reason}`;
      if (!seen.has(text)) out.push(text);
      seen.add(text);
    }
  }
  out.push('', 'Targets (issue 7; informational, the machine is shared and noisy):');
  for (const t of doc.targets) out.push(`  ${t.status.padEnd(4)} ${t.target}\n       ${t.measured}`);
  return out.join('\n');
}

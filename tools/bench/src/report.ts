import { KERNEL_OPS } from './byteModel.js';
import type { BenchDocument } from './document.js';
import { SPREAD_LIMIT } from './measure.js';
import type { BenchResult } from './results.js';

function spreadText(r: BenchResult): string {
  if (r.spread === undefined) return '';
  return ` ±${(100 * r.spread).toFixed(0)}%${r.unstable ? '!' : ''}`;
}

function cell(r: BenchResult | undefined): string {
  if (r === undefined) return '—';
  if (r.error !== undefined) return r.error.startsWith('wrong') ? 'WRONG (not timed)' : 'FAILED';
  const ratio = r.ratioToCopy === undefined ? '' : ` ${r.ratioToCopy.toFixed(2)}×c`;
  const floor = r.ratioToFloor === undefined || r.op === 'copy' ? '' : ` ${r.ratioToFloor.toFixed(2)}×f`;
  const rate = r.gbPerSecond === undefined ? '' : ` ${r.gbPerSecond.toFixed(1)}GB/s`;
  return `${formatMs(r.medianMs!)}${ratio}${floor}${rate}${spreadText(r)}`;
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

function where(r: BenchResult): string {
  return r.op === 'mnistStep' ? `mnistStep ${r.variant}` : `${r.op} ${r.layout} [${r.shape?.join(',')}]`;
}

function formatCounter(key: string, value: unknown): string {
  if (typeof value === 'number' && /bytes/i.test(key) && value >= 1e4) {
    return value >= 1e8 ? `${(value / 1e9).toFixed(3)}GB` : value >= 1e5 ? `${(value / 1e6).toFixed(2)}MB` : `${(value / 1e3).toFixed(1)}kB`;
  }
  return typeof value === 'number' && !Number.isInteger(value) ? value.toPrecision(4) : String(value);
}

/** `{ kernel: { calls: 1 } }` → `kernel.calls=1`, whatever the fields. */
export function flattenCounters(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [`${prefix}=${formatCounter(prefix, value)}`];
  return Object.entries(value).flatMap(([k, v]) => flattenCounters(v, prefix === '' ? k : `${prefix}.${k}`));
}

/** The report for people: one table per shape, PyTorch side by side, the MNIST steps, and the rest. */
export function renderReport(doc: BenchDocument): string {
  const out: string[] = [];
  const { machine } = doc;
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' ');
  out.push(
    `batchnorm bench — ${machine.cpus}× ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}, ` +
      `load average ${load(machine.loadAverage)} at start, ${load(doc.loadAverageAtEnd)} at end${doc.quick ? ' (--quick)' : ''}`,
  );
  out.push(
    'cells: median of the rounds\' medians · ×c ratio to the Float32Array.set copy of the same tensor · ×f ratio to the',
    `byte model's floor at the copy's bandwidth · GB/s by the byte model · ±spread of the round medians (max/min − 1; ! over ${100 * SPREAD_LIMIT}%)`,
    'modes: resident = outputs stay device handles, disposed unread; read back = every output copied to the host in the call',
  );
  for (const subject of doc.subjects) {
    const facts = Object.entries(subject.details).map(([k, v]) => `${k}=${v}`).join(' ');
    out.push(`  ${subject.backend}: ${facts}`);
    if (subject.resident !== undefined) out.push(`    resident: ${subject.resident}`);
    if (subject.noSpeedClaim !== undefined) out.push(`    NO SPEED CLAIM: ${subject.noSpeedClaim}`);
  }
  const kernelRows = (here: BenchResult[]) => {
    const rows: string[][] = [];
    for (const b of [...new Set(here.map((r) => r.backend))]) {
      for (const readBack of [false, true]) {
        const mine = here.filter((r) => r.backend === b && (r.readBack ?? true) === readBack);
        if (mine.length === 0) continue;
        rows.push([b, readBack ? 'read back' : 'resident', ...KERNEL_OPS.map((op) => cell(mine.find((r) => r.op === op)))]);
      }
    }
    return rows;
  };
  const copies = doc.results.filter((r) => r.op === 'copy');
  for (const copy of copies) {
    const same = (r: BenchResult) => r.layout === copy.layout && r.shape?.join() === copy.shape?.join();
    const here = doc.results.filter((r) => same(r) && r.op !== 'copy');
    out.push('', `${copy.layout} [${copy.shape?.join(',')}] — copy ${cell(copy)}`);
    if (here.length === 0) continue;
    out.push(table(['backend', 'mode', ...KERNEL_OPS], kernelRows(here)));
  }

  const torch = doc.results.filter((r) => r.backend === 'pytorch' && r.error === undefined && r.medianMs !== undefined);
  if (torch.length > 0) {
    const resident = doc.results.filter(
      (r) => r.readBack === false && r.op !== 'copy' && r.backend !== 'pytorch' && r.error === undefined && r.medianMs !== undefined,
    );
    const others = [...new Set(resident.map((r) => r.backend))];
    out.push('', 'Side by side with PyTorch CPU (resident; ms, and in parentheses ÷ PyTorch\'s time: below 1 is faster)');
    out.push(
      table(
        ['shape', 'op', 'pytorch', ...others],
        torch.map((t) => {
          const like = (r: BenchResult) => r.op === t.op && r.layout === t.layout && r.shape?.join() === t.shape?.join();
          return [
            `${t.layout} [${t.shape?.join(',')}]`,
            t.op,
            `${formatMs(t.medianMs!)}${spreadText(t)}`,
            ...others.map((b) => {
              const r = resident.find((x) => x.backend === b && like(x));
              return r === undefined ? '—' : `${formatMs(r.medianMs!)} (${(r.medianMs! / t.medianMs!).toFixed(2)})`;
            }),
          ];
        }),
      ),
    );
  }

  const steps = doc.results.filter((r) => r.op === 'mnistStep');
  if (steps.length > 0) {
    out.push('', 'MNIST training step (784-100-100-100-10 sigmoid, batch 60, loss read back), median per step');
    const backends = [...new Set(steps.map((r) => r.backend))];
    out.push(
      table(
        ['backend', 'with BN', 'plain'],
        backends.map((b) => [b, ...(['bn', 'plain'] as const).map((v) => cell(steps.find((r) => r.backend === b && r.variant === v)))]),
      ),
    );
  }

  const counted = doc.results.filter((r) => r.counters !== undefined);
  if (counted.length > 0) {
    out.push('', "Backend counters (the backend's own stats(), one counted call of each case after its timing):");
    for (const r of counted) {
      out.push(`  ${r.backend} ${where(r)} ${r.readBack ? 'read back' : 'resident'}: ${flattenCounters(r.counters).join(' ')}`);
    }
  }

  const unstable = doc.results.filter((r) => r.unstable === true);
  if (unstable.length > 0) {
    out.push('', `UNSTABLE (round medians differ by over ${100 * SPREAD_LIMIT}%: max/min − 1):`);
    for (const r of unstable) {
      const rounds = `min ${formatMs(r.minMs!)} median ${formatMs(r.medianMs!)} max ${formatMs(r.maxMs!)}`;
      out.push(`  ${r.backend} ${where(r)}${r.op === 'copy' || r.op === 'mnistStep' ? '' : r.readBack ? ' read back' : ' resident'}: ${rounds} (±${(100 * r.spread!).toFixed(0)}%)`);
    }
  }

  const failures = doc.results.filter((r) => r.error !== undefined);
  if (failures.length > 0) {
    out.push('', 'FAILURES (the run exits non-zero):');
    for (const f of failures) out.push(`  ${f.backend} ${where(f)}: ${f.error}`);
  }
  if (doc.skipped.length > 0) {
    out.push('', 'Skipped:');
    const seen = new Set<string>();
    for (const s of doc.skipped) {
      const what = `${s.op === undefined ? '' : ` ${s.op}`}${s.layout ? ` ${s.layout} [${s.shape?.join(',')}]` : ''}`;
      // A resident skip repeats per case: once per backend is enough.
      const text = s.readBack === false ? `  ${s.backend} resident: ${s.reason}` : `  ${s.backend}${what}: ${s.reason}`;
      if (!seen.has(text)) out.push(text);
      seen.add(text);
    }
  }
  out.push('', 'Targets (issues 7 and 17; informational, the machine is shared and noisy):');
  for (const t of doc.targets) out.push(`  ${t.status.padEnd(4)} ${t.target}\n       ${t.measured}`);
  return out.join('\n');
}

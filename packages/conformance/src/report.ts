import { formatNumber, type BackendDetails, type ToleranceProfileName } from '@batchnorm/core';
import type { CaseResult } from './types.js';

/** One backend of a CLI run: what it was judged with, or why it did not run. */
export interface BackendRun {
  readonly name: string;
  readonly packageName: string;
  /** The tolerance profile it was judged with (its manifest's `traits.tolerance`). */
  readonly profile?: ToleranceProfileName;
  readonly details?: BackendDetails;
  readonly skipped?: string;
  readonly error?: string;
}

/**
 * Characters that must not reach a terminal or a file as they are: C0 and C1 controls (newlines,
 * ESC), DEL, the line and paragraph separators, bidirectional overrides and the BOM. Case names
 * come from vector files, details and messages from backends: none of it is ours.
 */
const CONTROL = /[\p{Cc}\p{Bidi_Control}\p{Zl}\p{Zp}\uFEFF]/gu;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` on one line with every control character written as an escape (`\n`, `\u001b`). */
export function visible(text: string): string {
  return text.replace(CONTROL, (ch) => NAMED_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` as plain Markdown in a table cell: the punctuation Markdown would act on is escaped. */
export function markdownText(text: string): string {
  return visible(text).replace(/[\\`*_[\]<>|~&$]/g, '\\$&');
}

/**
 * `text` as a Markdown code span in a table cell: shown exactly (nothing in it is Markdown), its
 * fence longer than any run of backticks inside, `|` escaped as GFM tables require.
 */
export function markdownCode(text: string): string {
  const body = visible(text).replaceAll('|', '\\|');
  const longestRun = Math.max(0, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longestRun + 1);
  // a space keeps a backtick at either end from joining the fence; one on each side is stripped
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

function cell(value: number): string {
  return formatNumber(value);
}

function detailsText(details: BackendDetails): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/** The terminal table of one backend's results. */
export function humanTable(backend: string, details: BackendDetails, results: readonly CaseResult[]): string {
  const rows = results.map((r) => [
    visible(r.case),
    r.skipped === true ? 'skip' : r.pass ? 'pass' : 'FAIL',
    cell(r.maxAbsError),
    cell(r.maxRelError),
    r.toleranceRatio === undefined ? '' : cell(r.toleranceRatio),
  ]);
  // error/tolerance: below 1 passes; how close a backend runs to its bound
  const header = ['case', 'pass', 'max abs error', 'max rel error', 'error/tolerance'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const facts = visible(detailsText(details));
  const title = facts === '' ? visible(backend) : `${visible(backend)} (${facts})`;
  const out = [`\n== backend ${title} ==`, line(header), line(widths.map((w) => '-'.repeat(w)))];
  for (const [i, row] of rows.entries()) {
    out.push(line(row));
    const r = results[i]!;
    if (!r.pass && r.message !== undefined) out.push(`    ${visible(r.message.split('\n')[0]!)}`);
  }
  return out.join('\n');
}

/**
 * The `--report` Markdown: the backends, then a table case × backend. Every text that is not the
 * report's own is escaped, so a case name cannot add rows or cells, or write control bytes.
 */
export function markdownReport(runs: readonly BackendRun[], results: readonly CaseResult[], source: string): string {
  const ran = runs.filter((r) => r.skipped === undefined);
  const names = ran.map((r) => r.name);
  const cases = [...new Set(results.map((r) => r.case))];
  const byKey = new Map(results.map((r) => [`${r.backend}\u0000${r.case}`, r]));
  const passed = results.filter((r) => r.pass && r.skipped !== true).length;
  const failed = results.filter((r) => !r.pass).length;
  const lines = [
    '# batchnorm conformance report',
    '',
    `Cases: ${markdownText(source)}. ${passed} passed, ${failed} failed. Each cell: pass/FAIL, max abs error / max rel error (worst error as a fraction of its tolerance).`,
    '',
    '| backend | package | tolerance profile | details |',
    '|---|---|---|---|',
    ...runs.map((r) => {
      const note = r.skipped ?? r.error;
      const details = note === undefined ? markdownText(detailsText(r.details ?? {})) : markdownCode(note);
      return `| ${markdownText(r.name)} | ${markdownText(r.packageName)} | ${markdownText(r.profile ?? '')} | ${details} |`;
    }),
    '',
    `| case | ${names.map(markdownText).join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
  ];
  for (const name of cases) {
    const cells = names.map((b) => {
      const r = byKey.get(`${b}\u0000${name}`);
      if (r === undefined) return '';
      if (r.skipped === true) return 'skip';
      const ratio = r.toleranceRatio === undefined ? '' : ` (${cell(r.toleranceRatio)} of tolerance)`;
      return `${r.pass ? 'pass' : '**FAIL**'} ${cell(r.maxAbsError)} / ${cell(r.maxRelError)}${ratio}`;
    });
    lines.push(`| ${markdownCode(name)} | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

import { describe, expect, it } from 'vitest';
import { humanTable, markdownCode, markdownReport, markdownText, visible } from './report.js';
import type { CaseResult } from './types.js';

/** Control characters (C0, DEL, C1), bidirectional controls, line and paragraph separators. */
const CONTROL = /[\p{Cc}\p{Bidi_Control}\p{Zl}\p{Zp}]/u;

const HOSTILE = ['a | b', 'x`y``z', 'line\nbreak\r\n|---|', 'esc\u001b[2Jclear', 'rtl\u202eevil\u2066', 'nul\u0000 del\u007f c1\u009b', 'sep\u2028\u2029', '`both`'];

/** The cells of a GFM table row: split at the pipes that are not escaped. */
function cells(row: string): string[] {
  return row.replaceAll('\\|', '').split('|').slice(1, -1);
}

describe('escaping for the terminal and Markdown', () => {
  it('visible: one line, every control character written as an escape', () => {
    expect(visible('a\nb\r\tc\u001b[0m\u202e\u0000')).toBe('a\\nb\\r\\tc\\u001b[0m\\u202e\\u0000');
    expect(visible('plain/text (ok) ü 𝛼')).toBe('plain/text (ok) ü 𝛼');
    for (const name of HOSTILE) expect(visible(name)).not.toMatch(CONTROL);
  });

  it('markdownCode: one code span showing the text exactly, whatever backticks it holds', () => {
    expect(markdownCode('forwardTraining/NC/2x3/unit')).toBe('`forwardTraining/NC/2x3/unit`');
    expect(markdownCode('x`y``z')).toBe('```x`y``z```');
    expect(markdownCode('`both`')).toBe('`` `both` ``');
    expect(markdownCode('a | b')).toBe('`a \\| b`');
    expect(markdownCode('*not* [a](link) <b>')).toBe('`*not* [a](link) <b>`');
  });

  it('markdownText: the punctuation Markdown acts on is escaped', () => {
    expect(markdownText('precision: float64, reads: async-only')).toBe('precision: float64, reads: async-only');
    expect(markdownText('*b* _i_ [l](u) <h> `c` | ~s~ &amp; $m$ \\')).toBe(
      '\\*b\\* \\_i\\_ \\[l\\](u) \\<h\\> \\`c\\` \\| \\~s\\~ \\&amp; \\$m\\$ \\\\',
    );
  });
});

describe('markdownReport', () => {
  const results: CaseResult[] = HOSTILE.map((name, i) => ({
    backend: 'reference',
    case: name,
    op: 'forwardInference',
    pass: i % 2 === 0,
    maxAbsError: 1e-9,
    maxRelError: 1e-9,
    toleranceRatio: 0.5,
    ...(i % 2 === 0 ? {} : { message: `y[0]: ${name}` }),
  }));
  const report = markdownReport(
    [
      { name: 'reference', packageName: '@batchnorm/core', profile: 'float64', details: { precision: 'float64 | x\n| y |' } },
      { name: 'js', packageName: '@batchnorm/backend-js', error: 'failed to start: Error: bad | worse\n\u001b[31mred' },
    ],
    results,
    'vectors|with\npipes.json',
  );
  const lines = report.split('\n');

  it('holds no control bytes, and one table row per backend and per case', () => {
    expect(report.replaceAll('\n', '')).not.toMatch(CONTROL);
    expect(lines[2]).toMatch(/^Cases: vectors\\\|with\\\\npipes\.json\. 4 passed, 4 failed\./);
    const backendRows = lines.slice(lines.indexOf('|---|---|---|---|') + 1, lines.indexOf('', 6));
    expect(backendRows).toEqual([
      '| reference | @batchnorm/core | float64 | precision: float64 \\| x\\\\n\\| y \\| |',
      '| js | @batchnorm/backend-js |  | `failed to start: Error: bad \\| worse\\n\\u001b[31mred` |',
    ]);
    for (const row of backendRows) expect(cells(row), row).toHaveLength(4);
    const caseRows = lines.slice(lines.indexOf('| case | reference | js |') + 2).filter((line) => line !== '');
    expect(caseRows).toHaveLength(HOSTILE.length);
    for (const row of caseRows) expect(cells(row), row).toHaveLength(3);
    expect(caseRows[2]).toBe('| `line\\nbreak\\r\\n\\|---\\|` | pass 1.00e-9 / 1.00e-9 (0.500 of tolerance) |  |');
  });

  it('the terminal table escapes names, details and messages too', () => {
    const table = humanTable('reference', { precision: 'a\u001b[0m' }, results);
    expect(table.replaceAll('\n', '')).not.toMatch(CONTROL);
    expect(table).toContain('== backend reference (precision: a\\u001b[0m) ==');
    expect(table).toContain('    y[0]: esc\\u001b[2Jclear');
  });
});

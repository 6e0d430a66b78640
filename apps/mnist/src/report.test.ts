import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
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
      const page = await browser.newPage();
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
    } finally {
      await browser.close();
    }
  }, 180_000);
});

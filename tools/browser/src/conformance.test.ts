import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, launchChromium, runPage, serve, type StaticServer } from './harness.js';
import { BACKENDS, buildConformancePage, checkConformanceReport, pagesDir } from './pages.js';
import type { ConformanceReport } from './report.js';

const buildErrors = new Map<string, string | undefined>();
let browser: Browser | undefined;
let isolated: StaticServer | undefined;
let open: StaticServer | undefined;
const summary: string[] = [];

beforeAll(async () => {
  for (const backend of BACKENDS) buildErrors.set(backend, await buildConformancePage(backend));
  isolated = await serve(pagesDir, true);
  open = await serve(pagesDir, false);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await open?.close();
  process.stdout.write(`conformance in headless Chromium ${browser?.version() ?? ''}:\n${summary.join('\n')}\n`);
});

describe.each(BACKENDS)('conformance suite on %s in headless Chromium', (backend) => {
  it.each([true, false])('cross-origin isolated: %s — quick grid, shipped vectors and checks all pass', async (crossOriginIsolated) => {
    expect(buildErrors.get(backend)).toBeUndefined();
    const server = crossOriginIsolated ? isolated! : open!;
    const tag = `${backend}-${crossOriginIsolated ? 'isolated' : 'not-isolated'}`;
    const run = await runPage<ConformanceReport>(browser!, `${server.origin}/${backend}/${backend}.html`, join(artifactsDir, `chromium-conformance-${tag}.png`));
    summary.push(`  ${tag.padEnd(22)} ${checkConformanceReport(run.report, backend, crossOriginIsolated, run.console)}; ${run.ms} ms`);
  });
});

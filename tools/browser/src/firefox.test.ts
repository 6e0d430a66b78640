import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Firefox } from './firefox.js';
import { artifactsDir, serve, type StaticServer } from './harness.js';
import { BACKENDS, buildConformancePage, checkConformanceReport, pagesDir } from './pages.js';
import type { ConformanceReport } from './report.js';

// The same pages as in Chromium, in Debian's Firefox ESR driven over WebDriver BiDi.
const buildErrors = new Map<string, string | undefined>();
let firefox: Firefox | undefined;
let isolated: StaticServer | undefined;
let open: StaticServer | undefined;
const summary: string[] = [];

beforeAll(async () => {
  for (const backend of BACKENDS) buildErrors.set(backend, await buildConformancePage(backend));
  isolated = await serve(pagesDir, true);
  open = await serve(pagesDir, false);
  firefox = await Firefox.launch();
});

afterAll(async () => {
  await firefox?.close();
  await isolated?.close();
  await open?.close();
  process.stdout.write(`conformance in headless Firefox ESR ${firefox?.version ?? ''}:\n${summary.join('\n')}\n`);
});

describe.each(BACKENDS)('conformance suite on %s in headless Firefox ESR', (backend) => {
  it.each([true, false])('cross-origin isolated: %s — quick grid, shipped vectors and checks all pass', async (crossOriginIsolated) => {
    expect(buildErrors.get(backend)).toBeUndefined();
    const server = crossOriginIsolated ? isolated! : open!;
    const tag = `${backend}-${crossOriginIsolated ? 'isolated' : 'not-isolated'}`;
    const run = await firefox!.runPage<ConformanceReport>(`${server.origin}/${backend}/${backend}.html`, join(artifactsDir, `firefox-conformance-${tag}.png`));
    summary.push(`  ${tag.padEnd(22)} ${checkConformanceReport(run.report, backend, crossOriginIsolated, run.console)}; ${run.ms} ms`);
  });
});

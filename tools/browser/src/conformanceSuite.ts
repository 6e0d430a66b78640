import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, serve, type PageRun, type StaticServer } from './harness.js';
import { BACKENDS, buildConformancePage, checkConformanceReport, pagesDir, type PageBackendName } from './pages.js';
import type { ConformanceReport } from './report.js';

/** What the suite needs of a browser: Chromium through Playwright, Firefox over WebDriver BiDi. */
export interface PageDriver {
  readonly version: string;
  runPage(url: string, screenshot: string): Promise<PageRun<ConformanceReport>>;
  close(): Promise<void>;
}

/**
 * The conformance pages of every backend, built with Vite and run in one browser, served
 * cross-origin isolated and not. `tag` names the screenshots (`<tag>-conformance-…png`).
 */
export function describeConformancePages(
  browserName: string,
  tag: string,
  launch: () => Promise<PageDriver>,
  backends: readonly PageBackendName[] = BACKENDS,
): void {
  const buildErrors = new Map<string, string | undefined>();
  let driver: PageDriver | undefined;
  let isolated: StaticServer | undefined;
  let open: StaticServer | undefined;
  const summary: string[] = [];

  beforeAll(async () => {
    for (const backend of backends) buildErrors.set(backend, await buildConformancePage(backend));
    isolated = await serve(pagesDir, true);
    open = await serve(pagesDir, false);
    driver = await launch();
  });

  afterAll(async () => {
    await driver?.close();
    await isolated?.close();
    await open?.close();
    process.stdout.write(`conformance in ${browserName} ${driver?.version ?? ''}:\n${summary.join('\n')}\n`);
  });

  describe.each(backends)(`conformance suite on %s in ${browserName}`, (backend) => {
    it.each([true, false])('cross-origin isolated: %s — quick grid, shipped vectors and checks all pass', async (crossOriginIsolated) => {
      expect(buildErrors.get(backend)).toBeUndefined();
      const server = crossOriginIsolated ? isolated! : open!;
      const name = `${backend}-${crossOriginIsolated ? 'isolated' : 'not-isolated'}`;
      const run = await driver!.runPage(`${server.origin}/${backend}/index.html`, join(artifactsDir, `${tag}-conformance-${name}.png`));
      summary.push(`  ${name.padEnd(22)} ${checkConformanceReport(run.report, backend, crossOriginIsolated, run.console)}; ${run.ms} ms`);
    });
  });
}

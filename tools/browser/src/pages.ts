import { join } from 'node:path';
import { build, createLogger, type Rollup } from 'vite';
import { expect } from 'vitest';
import { artifactsDir, nodeBuiltinProblems, toolDir, writeAtomic } from './harness.js';
import type { ConformanceReport } from './report.js';

const pageDir = join(toolDir, 'src', 'conformance-page');
/** Where the conformance pages are built, one folder per backend. */
export const pagesDir = join(artifactsDir, 'conformance');
export const BACKENDS = ['reference', 'js', 'gpujs'] as const;
export type PageBackendName = (typeof BACKENDS)[number];

/**
 * Builds one backend's conformance page with Vite, capturing the log; returns the problems (build
 * errors, any word of a Node built-in) or `undefined`. Each backend's page is built on its own: a
 * backend that does not bundle fails only its own tests.
 */
export async function buildConformancePage(backend: string): Promise<string | undefined> {
  const log: string[] = [];
  const logger = createLogger('warn');
  const { warn, error } = logger;
  logger.warn = (message, options) => {
    log.push(`warn: ${message}`);
    warn(message, options);
  };
  logger.error = (message, options) => {
    log.push(`error: ${message}`);
    error(message, options);
  };
  try {
    await build({
      root: pageDir,
      base: './',
      configFile: false,
      customLogger: logger,
      build: {
        outDir: join(pagesDir, backend),
        emptyOutDir: true,
        target: 'es2022',
        // gpu.js compiles kernels from their JavaScript source text: minified code would not parse
        // the same (and names like `this.thread` must survive)
        minify: false,
        // the page carries the shipped vectors (JSON): large by design
        chunkSizeWarningLimit: 4096,
        rollupOptions: { input: join(pageDir, 'index.html') },
      },
      // one page for every backend: its entry (`<backend>.ts`) is put into the page's script tag
      plugins: [{ name: 'backend-entry', transformIndexHtml: { order: 'pre', handler: (html) => html.replace('./BACKEND_ENTRY.ts', `./${backend}.ts`) } }],
    });
  } catch (thrown) {
    log.push(`error: ${(thrown as Rollup.RollupError).message}`);
  } finally {
    writeAtomic(join(artifactsDir, `conformance-${backend}-vite.log`), log.join('\n') + '\n');
  }
  const problems = [...log.filter((line) => line.startsWith('error: ')), ...nodeBuiltinProblems(log)];
  return problems.length === 0 ? undefined : `vite build of the ${backend} page:\n${problems.join('\n')}`;
}

/** Everything a conformance page run must show; returns a one-line summary. */
export function checkConformanceReport(report: ConformanceReport | undefined, backend: string, crossOriginIsolated: boolean, console: readonly string[]): string {
  expect(report, console.join('\n')).toBeDefined();
  const r = report!;
  const failures = r.cases.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
  expect(r.error, console.join('\n')).toBeUndefined();
  expect(failures).toEqual([]);
  expect(r.failed).toBe(0);
  // nothing skipped: the error check has its second instance
  expect(r.cases.filter((c) => c.skipped).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
  expect(r.crossOriginIsolated).toBe(crossOriginIsolated);
  expect(r.gridCases).toBeGreaterThan(0);
  expect(r.vectorCases).toBeGreaterThan(0);
  // every grid and vector case, plus the layer-level checks, produced a result
  expect(r.cases.length).toBeGreaterThan(r.gridCases + r.vectorCases);
  expect(r.passed).toBeGreaterThan(0);
  if (backend === 'gpujs') {
    // the GPU path ran (SwiftShader's WebGL), not gpu.js's CPU fallback
    expect(['webgl2', 'webgl'], JSON.stringify(r.details)).toContain(r.details['mode']);
    const step = r.cases.find((c) => c.name.startsWith('MLP training step'));
    expect(step?.passed, step?.detail ?? 'the page ran no training-step case').toBe(true);
  }
  if (backend === 'js') {
    if (crossOriginIsolated) {
      expect(r.details['threads'], JSON.stringify(r.details)).toBeGreaterThan(1);
      // the helpers (Web Workers) really ran part of a 2¹⁸-element forward
      expect(r.helperChunks).toBeGreaterThan(0);
    } else {
      expect(r.details['threads'], JSON.stringify(r.details)).toBe(1);
      expect(JSON.stringify(r.details)).toContain('cross-origin isolated');
      expect(r.helperChunks).toBe(0);
    }
  }
  return (
    `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.gridCases} grid + ${r.vectorCases} vector cases + checks); ` +
    `details ${JSON.stringify(r.details)}` +
    (r.helperChunks === undefined ? '' : `; helper chunks ${r.helperChunks}`)
  );
}

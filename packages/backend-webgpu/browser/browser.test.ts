import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Chromium, CHROMIUM } from './chromium.js';

/**
 * The webgpu backend in headless Chromium on SwiftShader's WebGPU adapter: the conformance suite
 * (quick grid, checks, shipped vectors) with subgroups and without, and bit-identical repeats.
 * The page loads the built packages as plain ES modules through an import map.
 */

const here = fileURLToPath(new URL('.', import.meta.url));
const packageDir = resolve(here, '..');
const modules = join(packageDir, 'node_modules', '@batchnorm');
/** URL prefix → directory served under it. */
const ROOTS: Record<string, string> = {
  '/webgpu/': join(packageDir, 'dist'),
  '/core/': join(modules, 'core', 'dist'),
  '/conformance/': join(modules, 'conformance', 'dist'),
};
const FILES: Record<string, string> = {
  '/page.js': join(here, 'page.js'),
  // @batchnorm/conformance's vector-file schema is declared with valibot (one ES module, no imports)
  '/valibot.mjs': join(modules, 'conformance', 'node_modules', 'valibot', 'dist', 'index.mjs'),
  '/vectors.json': join(modules, 'conformance', 'vectors', 'conformance-vectors.json'),
};
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>@batchnorm/backend-webgpu in the browser</title>
<script type="importmap">
{ "imports": { "@batchnorm/core": "/core/index.js", "valibot": "/valibot.mjs", "node:fs/promises": "/node-fs-stub.js" } }
</script>
<script type="module" src="/page.js"></script>
`;
// @batchnorm/conformance's vectorFile.js imports readFile for loadVectorFile, which the page never calls
const FS_STUB = 'export function readFile(path) { return Promise.reject(new Error(`readFile(${path}): no file system here`)); }\n';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
};

function fileFor(path: string): string | undefined {
  if (FILES[path] !== undefined) return FILES[path];
  for (const [prefix, dir] of Object.entries(ROOTS)) {
    if (!path.startsWith(prefix)) continue;
    const file = resolve(dir, `.${normalize(`/${path.slice(prefix.length)}`)}`);
    return file.startsWith(dir) ? file : undefined;
  }
  return undefined;
}

function serve(): Promise<Server> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    if (path === '/' || path === '/index.html') return void response.writeHead(200, { 'content-type': TYPES['.html'] }).end(PAGE);
    if (path === '/node-fs-stub.js') return void response.writeHead(200, { 'content-type': TYPES['.js'] }).end(FS_STUB);
    const file = fileFor(path);
    if (file === undefined || !existsSync(file) || !statSync(file).isFile()) return void response.writeHead(404).end('not found');
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  return new Promise((ready) => server.listen(0, '127.0.0.1', () => ready(server)));
}

interface Run {
  readonly label: string;
  readonly details: Record<string, string | number | boolean>;
  readonly cases: number;
  readonly failed: string[];
  readonly worstRatio: number;
  readonly deterministic: boolean;
  readonly uncapturedErrors: number;
  readonly timing: Timing;
  readonly ms: number;
}

/** stats()' timings after one training step (page.js's timingOf). */
interface Timing {
  readonly gpuTime: string;
  readonly pendingGpuTimes: number;
  readonly forward: { calls: number; submitMs: number; gpuMs: number | string };
  readonly backward: { calls: number; submitMs: number; gpuMs: number | string };
  readonly matMul: { calls: number; gpuMs: number | string };
  readonly readMs: number;
}

let server: Server | undefined;
let chromium: Chromium | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium).`);
  for (const dir of Object.values(ROOTS)) {
    if (!existsSync(join(dir, 'index.js'))) throw new Error(`${dir} is not built: run pnpm build first`);
  }
  server = await serve();
  chromium = Chromium.launch();
});

afterAll(async () => {
  await chromium?.close();
  await new Promise((done) => (server === undefined ? done(undefined) : server.close(done)));
});

it('passes the conformance suite on SwiftShader WebGPU, with subgroupAdd and with the tree, bit-identical on repeat, its kernels timed on the GPU', async () => {
  const { port } = server!.address() as AddressInfo;
  const session = await chromium!.open(`http://127.0.0.1:${port}/`);
  // the page sets window.batchnormReport as soon as its module runs
  let report: { runs?: Run[]; untimed?: { gpuTime: string; timing: Timing }; error?: string } | undefined;
  for (let i = 0; i < 600 && report === undefined; i++) {
    report = (await chromium!.evaluate(session, 'window.batchnormReport')) as typeof report;
    if (report === undefined) await new Promise((r) => setTimeout(r, 500));
  }
  expect(report, 'the page never ran its script').toBeDefined();
  report = (await chromium!.evaluate(session, 'window.batchnormReport')) as typeof report;
  expect(report!.error).toBeUndefined();
  const runs = report!.runs!;
  expect(runs.map((r) => r.label)).toEqual(['default', 'subgroups: false']);
  const [withSubgroups, withTree] = runs as [Run, Run];
  expect(withSubgroups.details['api']).toBe('navigator.gpu');
  expect(String(withSubgroups.details['subgroups'])).toMatch(/^subgroupAdd/);
  expect(withTree.details['subgroups']).toBe('off (option subgroups: false)');
  for (const run of runs) {
    expect(run.cases).toBeGreaterThan(500);
    expect(run.failed, `${run.label}: ${run.failed.slice(0, 5).join('\n')}`).toEqual([]);
    expect(run.deterministic, run.label).toBe(true);
    expect(run.uncapturedErrors, run.label).toBe(0);
    // SwiftShader has timestamp-query: one training step's kernels are timed on the GPU
    const { timing } = run;
    expect(timing.gpuTime, run.label).toBe('timestamp-query');
    expect(run.details['gpuTime'], run.label).toBe('timestamp-query');
    expect(timing.pendingGpuTimes, run.label).toBe(0);
    expect(timing.forward.calls, run.label).toBe(1);
    // A page's performance.now() is coarsened (100 µs without cross-origin isolation): one
    // submit may read 0, never less.
    expect(timing.forward.submitMs, run.label).toBeGreaterThanOrEqual(0);
    expect(timing.forward.gpuMs, run.label).toBeGreaterThan(0);
    expect(timing.backward.gpuMs, run.label).toBeGreaterThan(0);
    expect(timing.matMul).toEqual({ calls: 0, gpuMs: 0 });
    expect(timing.readMs, run.label).toBeGreaterThan(0);
    process.stdout.write(
      `webgpu in Chromium (${run.label}): ${run.cases} cases passed, worst tolerance ratio ${run.worstRatio.toFixed(3)}, ` +
        `${run.ms} ms; adapter ${String(run.details['adapter'])}, subgroups ${String(run.details['subgroups'])}; ` +
        `one NHWC [16, 64, 64, 4] step: forward submit ${timing.forward.submitMs.toFixed(2)} ms, GPU ${String(timing.forward.gpuMs)} ms; ` +
        `backward GPU ${String(timing.backward.gpuMs)} ms; reads ${timing.readMs.toFixed(1)} ms\n`,
    );
  }
  // with timestamps: false the kernels are not timed on the GPU, and stats() says why
  const untimed = report!.untimed!;
  expect(untimed.gpuTime).toBe('unavailable: option timestamps: false');
  expect(untimed.timing.gpuTime).toBe('unavailable: option timestamps: false');
  expect(untimed.timing.forward.gpuMs).toBe('unavailable: option timestamps: false');
  expect(untimed.timing.forward.calls).toBe(1);
  expect(untimed.timing.forward.submitMs).toBeGreaterThanOrEqual(0);
});

import { createReadStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrowserReport } from './report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const distDir = join(here, 'dist');
const artifactsDir = join(here, 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
// SwiftShader gives headless Chromium a software WebGL2; no network chatter, no updates.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** A static file server for the built page, on 127.0.0.1 and a free port. */
function serve(root: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const file = resolve(root, '.' + normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  return new Promise((ready) => server.listen(0, '127.0.0.1', () => ready(server)));
}

let server: Server | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium).`);
  }
  await build({ configFile: join(here, 'vite.config.ts') });
  server = await serve(distDir);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (server === undefined ? done(undefined) : server.close(done)));
});

it('runs the conformance suite on gpujs in WebGL mode in headless Chromium, all passing', async () => {
  const { port } = server!.address() as AddressInfo;
  const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  const console: string[] = [];
  page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => console.push(`pageerror: ${error.message}`));
  await page.goto(`http://127.0.0.1:${port}/index.html`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset['status'] !== 'running', undefined, { timeout: 600_000, polling: 1000 });
  const report = (await page.evaluate(() => window.batchnormReport)) as BrowserReport;

  mkdirSync(artifactsDir, { recursive: true });
  const screenshot = await page.screenshot({ fullPage: true });
  const target = join(artifactsDir, 'browser-report.png');
  writeFileSync(`${target}.tmp`, screenshot);
  renameSync(`${target}.tmp`, target);

  const failed = report.cases.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
  expect(report.error, console.join('\n')).toBeUndefined();
  expect(['webgl2', 'webgl']).toContain(report.mode);
  expect(report.cases.length).toBeGreaterThan(0);
  expect(failed, console.join('\n')).toEqual([]);
  expect(report.failed).toBe(0);
  const step = report.cases.find((c) => c.name.startsWith('MLP training step'));
  expect(step?.passed, step?.detail ?? 'the page ran no training-step case').toBe(true);
  process.stdout.write(`training step in the browser: ${step?.detail ?? ''}\n`);
  process.stdout.write(
    `browser report: mode ${report.mode}, ${report.passed}/${report.cases.length} cases passed ` +
      `(${report.cases.reduce((t, c) => t + c.ms, 0)} ms); screenshot ${target}\n`,
  );
});

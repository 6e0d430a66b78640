import { createReadStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const toolDir = fileURLToPath(new URL('..', import.meta.url));
/** Built pages, screenshots, logs and the bundle project: gitignored. */
export const artifactsDir = join(toolDir, 'artifacts');

export const CHROMIUM = '/usr/bin/chromium';
// No network chatter, no updates: the test runs offline. SwiftShader gives it a software WebGL2
// (gpujs's page).
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

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium).`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** The headers that make a page cross-origin isolated (`crossOriginIsolated === true`). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

export interface StaticServer {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * A static file server for `root` on 127.0.0.1 and a free port; `isolated` adds COOP and COEP to
 * every response. Two servers on two ports are two origins: one isolated page, one not.
 */
export function serve(root: string, isolated: boolean): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const file = resolve(root, '.' + normalize(path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      ...(isolated ? ISOLATION_HEADERS : {}),
    });
    createReadStream(file).pipe(response);
  });
  return new Promise((ready) =>
    server.listen(0, '127.0.0.1', () =>
      ready({
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

/** Writes `data` beside `target`, then renames: a reader never sees half a file. */
export function writeAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(join(target, '..'), { recursive: true });
  writeFileSync(`${target}.tmp`, data);
  renameSync(`${target}.tmp`, target);
}

export interface PageRun<R> {
  readonly report: R | undefined;
  /** Console messages and page errors, for failure messages. */
  readonly console: readonly string[];
  readonly ms: number;
}

/**
 * Opens `url`, waits until the page sets `document.body.dataset.status` to something other than
 * `running`, and returns what it published on `window.batchnormReport`; saves a screenshot.
 */
export async function runPage<R>(browser: Browser, url: string, screenshot: string, timeoutMs = 600_000): Promise<PageRun<R>> {
  const started = performance.now();
  const page: Page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const console: string[] = [];
  page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => console.push(`pageerror: ${error.message}`));
  try {
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset['status'] !== 'running', undefined, { timeout: timeoutMs, polling: 250 });
    const report = (await page.evaluate(() => (window as unknown as { batchnormReport?: unknown }).batchnormReport)) as R | undefined;
    writeAtomic(screenshot, await page.screenshot({ fullPage: true }));
    return { report, console, ms: Math.round(performance.now() - started) };
  } finally {
    await page.close();
  }
}

/** Node built-ins a browser bundle must not reach (by name, with or without `node:`). */
const NODE_BUILTIN = /node:|__vite-browser-external|externalized for browser compatibility|\b(fs|os|path|url|worker_threads|child_process|module|crypto|util)\b["']/;

/** The log lines that are about a Node built-in on the browser path. */
export function nodeBuiltinProblems(lines: readonly string[]): string[] {
  return lines.filter((line) => NODE_BUILTIN.test(line));
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic, type PageRun } from './harness.js';

export const FIREFOX = '/usr/bin/firefox-esr';

// Quiet and offline: no updates, telemetry, safe-browsing lists or captive-portal probes.
const PREFS: Record<string, boolean | number | string> = {
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.update.enabled': false,
};

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

/**
 * Firefox ESR driven over WebDriver BiDi (built into Firefox: `--remote-debugging-port`), with
 * Node's own WebSocket (behind `--experimental-websocket` on Node 20): no driver binary, no
 * patched browser build.
 */
export class Firefox {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  readonly log: string[] = [];

  private constructor(
    private readonly process: ChildProcess,
    private readonly socket: WebSocket,
    private readonly profile: string,
    readonly version: string,
  ) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; type: string; result?: Record<string, unknown>; error?: string; message?: string; method?: string; params?: Record<string, unknown> };
      if (message.id !== undefined) {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.type === 'error') waiting?.reject(new Error(`WebDriver BiDi: ${message.error ?? ''}: ${message.message ?? ''}`));
        else waiting?.resolve(message.result ?? {});
      } else if (message.method === 'log.entryAdded') {
        const entry = message.params as { level?: string; text?: string };
        this.log.push(`${entry.level ?? 'log'}: ${entry.text ?? ''}`);
      }
    });
  }

  static async launch(): Promise<Firefox> {
    if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} not found: install Debian's firefox-esr package (apt-get install -y firefox-esr).`);
    if (typeof WebSocket === 'undefined') throw new Error('no global WebSocket: run Node 22, or Node 20 with --experimental-websocket');
    const profile = mkdtempSync(join(tmpdir(), 'batchnorm-firefox-'));
    writeFileSync(join(profile, 'user.js'), Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
    const child = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Firefox did not start WebDriver BiDi within 90 s:\n${output}`)), 90_000);
      const read = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Firefox exited (${String(code)}) before WebDriver BiDi started:\n${output}`));
      });
    });
    const socket = new WebSocket(`${endpoint}/session`);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot connect to ${endpoint}/session`)), { once: true });
    });
    const firefox = new Firefox(child, socket, profile, '');
    const session = await firefox.send('session.new', { capabilities: {} });
    const capabilities = session['capabilities'] as { browserVersion?: string };
    await firefox.send('session.subscribe', { events: ['log.entryAdded'] });
    return Object.assign(firefox, { version: capabilities.browserVersion ?? 'unknown' });
  }

  send(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON-serialized value. */
  private async evaluate(context: string, expression: string): Promise<string> {
    const result = await this.send('script.evaluate', { expression, target: { context }, awaitPromise: true, resultOwnership: 'none' });
    if (result['type'] === 'exception') throw new Error(`in the page: ${JSON.stringify(result['exceptionDetails'])}`);
    const value = result['result'] as { type: string; value?: unknown };
    return value.type === 'string' ? String(value.value) : 'null';
  }

  /** As harness.runPage: open `url`, wait for the page's status, return its report and a screenshot. */
  async runPage<R>(url: string, screenshot: string, timeoutMs = 600_000): Promise<PageRun<R>> {
    const started = performance.now();
    const first = this.log.length;
    const { context } = (await this.send('browsingContext.create', { type: 'tab' })) as { context: string };
    try {
      await this.send('browsingContext.navigate', { context, url, wait: 'complete' });
      const deadline = Date.now() + timeoutMs;
      while ((await this.evaluate(context, "String(document.body?.dataset.status ?? 'running')")) === 'running') {
        if (Date.now() > deadline) throw new Error(`${url}: still running after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const text = await this.evaluate(context, 'JSON.stringify(window.batchnormReport ?? null)');
      const image = (await this.send('browsingContext.captureScreenshot', { context, origin: 'document' })) as { data: string };
      writeAtomic(screenshot, Buffer.from(image.data, 'base64'));
      return { report: (JSON.parse(text) as R | null) ?? undefined, console: this.log.slice(first), ms: Math.round(performance.now() - started) };
    } finally {
      await this.send('browsingContext.close', { context });
    }
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send('browser.close', {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
    } catch {
      // already gone
    }
    this.socket.close();
    if (this.process.exitCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    // content processes may still write there just after the main one exits: retried
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

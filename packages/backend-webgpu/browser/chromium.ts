import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium with WebGPU on SwiftShader (a CPU adapter with `subgroups` of size 4), and the
 * WebGL flags the repository's other browser test uses; no network chatter.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

interface Pending {
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages
 * separated by NUL bytes on file descriptors 3 and 4), so the test needs no browser-automation
 * package: a page is opened and evaluated in, nothing more.
 */
export class Chromium {
  readonly #child: ChildProcess;
  readonly #toBrowser: Writable;
  readonly #profile: string;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #buffer = '';
  #stderr = '';

  private constructor(child: ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
    const [, , stderr, toBrowser, fromBrowser] = child.stdio as [null, null, Readable, Writable, Readable];
    this.#toBrowser = toBrowser;
    stderr.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString('utf8');
    });
    fromBrowser.on('data', (chunk: Buffer) => this.#receive(chunk.toString('utf8')));
    child.on('exit', (code) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`chromium exited (${code}): ${this.#stderr.slice(-2000)}`));
      this.#pending.clear();
    });
  }

  static launch(args: readonly string[] = CHROMIUM_ARGS): Chromium {
    const profile = mkdtempSync(join(tmpdir(), 'batchnorm-chromium-'));
    const child = spawn(CHROMIUM, [...args, '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    return new Chromium(child, profile);
  }

  #receive(text: string): void {
    this.#buffer += text;
    let end: number;
    while ((end = this.#buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.#buffer.slice(0, end)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      this.#buffer = this.#buffer.slice(end + 1);
      const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (pending === undefined) continue;
      this.#pending.delete(message.id!);
      if (message.error !== undefined) pending.reject(new Error(message.error.message));
      else pending.resolve(message.result ?? {});
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  }

  /** Opens `url` in a new page; returns its session. */
  async open(url: string): Promise<string> {
    const { targetId } = await this.send('Target.createTarget', { url });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    return String(sessionId);
  }

  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  async evaluate(sessionId: string, expression: string): Promise<unknown> {
    const reply = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
    const exception = reply['exceptionDetails'] as { text?: string; exception?: { description?: string } } | undefined;
    if (exception !== undefined) throw new Error(`page: ${exception.exception?.description ?? exception.text ?? 'exception'}`);
    return (reply['result'] as { value?: unknown }).value;
  }

  /**
   * Ends the browser and removes its profile once it has exited. `Browser.close` shuts down in
   * order (helper processes first, the profile flushed); a SIGTERM alone let a helper still write
   * there after the main process exited (a CI run saw ENOTEMPTY), so the removal also retries.
   */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((done) => this.#child.once('exit', done));
      // its reply may never come: the process exits first
      this.send('Browser.close', {}).catch(() => undefined);
      const kill = setTimeout(() => this.#child.kill(), 5000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(this.#profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

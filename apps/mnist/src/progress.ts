import type { Variant } from './model.js';
import type { ProgressEvent } from './trainer.js';

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

const SHORT: Record<Variant, string> = { bn: 'BN', plain: 'plain' };

/**
 * A progress bar with ETA, loss and latest test accuracy on a terminal (redrawn at most 10×/s);
 * one plain line per evaluation otherwise (logs, CI).
 */
export class Progress {
  readonly #stream: Stream;
  readonly #tty: boolean;
  readonly #started = performance.now();
  #firstDone: number | undefined;
  #lastDraw = 0;
  #drawn = false;

  constructor(stream: Stream) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  update(event: ProgressEvent): void {
    const now = performance.now();
    // ETA from this session's own pace (a resumed run starts part-way).
    this.#firstDone ??= event.done - 1;
    const elapsed = (now - this.#started) / 1000;
    const rate = (event.done - this.#firstDone) / Math.max(elapsed, 1e-9);
    const eta = (event.total - event.done) / rate;
    const accuracies = [...event.latest.entries()]
      .map(([variant, record]) => `${SHORT[variant]} ${(record.testAccuracy * 100).toFixed(2)}%`)
      .join(' ');
    if (!this.#tty) {
      if (event.kind !== 'eval') return;
      this.#stream.write(
        `${SHORT[event.variant]} step ${event.step}/${event.steps} loss ${event.loss.toFixed(4)} ` +
          `test ${accuracies} | ${Math.floor((100 * event.done) / event.total)}% elapsed ${formatDuration(elapsed)} ETA ${formatDuration(eta)}\n`,
      );
      return;
    }
    if (event.kind === 'step' && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const fraction = event.done / event.total;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line =
      `${bar} ${(fraction * 100).toFixed(1).padStart(5)}% ${SHORT[event.variant]} ${event.step}/${event.steps} ` +
      `loss ${event.loss.toFixed(3)} | test ${accuracies || '–'} | ETA ${formatDuration(eta)}`;
    const columns = this.#stream.columns ?? 120;
    this.#stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
    this.#drawn = true;
  }

  finish(): void {
    if (this.#tty && this.#drawn) this.#stream.write('\n');
    this.#drawn = false;
  }
}

import { errorLine } from '@batchnorm/core/node';
import { TOOL } from './cliOptions.js';
import type { BackendRun } from './report.js';
import type { CaseResult } from './types.js';

/** The JSON document of `--json` (also how a child process hands its results back). */
export interface JsonDocument {
  readonly passed: number;
  readonly failed: number;
  readonly results: CaseResult[];
  readonly backends: BackendRun[];
}

/** Progress and notes: stderr, so stdout holds only the tables or the one JSON document. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** `batchnorm-conformance: error: <message>` on stderr. */
export function logError(message: string): void {
  log(errorLine(TOOL, message));
}

/** A thrown value as `Name: message`. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** JSON has no Infinity or NaN: write them as strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** Reads back what `jsonReplacer` wrote. */
function jsonReviver(key: string, value: unknown): unknown {
  const numeric = key === 'maxAbsError' || key === 'maxRelError' || key === 'toleranceRatio';
  return numeric && typeof value === 'string' ? Number(value) : value;
}

export function jsonText(document: JsonDocument): string {
  return `${JSON.stringify(document, jsonReplacer)}\n`;
}

/** The document a child printed, or undefined when it printed none (it crashed). */
export function parseJsonDocument(text: string): JsonDocument | undefined {
  try {
    return JSON.parse(text, jsonReviver) as JsonDocument;
  } catch {
    return undefined;
  }
}

/** The closing line of a human-readable run. */
export function summaryText(runs: readonly BackendRun[], passed: number, failed: number): string {
  const ran = runs.filter((r) => r.skipped === undefined && r.error === undefined).map((r) => r.name);
  const skipped = runs.filter((r) => r.skipped !== undefined).map((r) => `${r.name} (${r.packageName})`);
  return (
    `\nSummary: ${passed} passed, ${failed} failed on ${ran.join(', ') || 'no backend'}` +
    `${skipped.length > 0 ? ` (not installed: ${skipped.join(', ')})` : ''}\n`
  );
}

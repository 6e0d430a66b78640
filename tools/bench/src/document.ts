import os from 'node:os';
import type { BenchResult, SkippedEntry, SubjectInfo } from './results.js';
import type { TargetVerdict } from './targets.js';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly totalMemoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** 1, 5, 15-minute load averages at the start: how shared the machine was. */
  readonly loadAverage: readonly number[];
}

/**
 * Version of the document's layout: bumped when a field changes meaning or goes away (adding
 * one does not). 2: resident and read-back results (`readBack`), rounds and spread, the floor.
 */
export const SCHEMA_VERSION = 2;

/** The `--json` document: exactly this, once, on stdout. */
export interface BenchDocument {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly startedAt: string;
  /** Load averages when the run ended (compare with `machine.loadAverage`). */
  readonly loadAverageAtEnd: readonly number[];
  readonly subjects: readonly SubjectInfo[];
  readonly results: readonly BenchResult[];
  readonly skipped: readonly SkippedEntry[];
  readonly targets: readonly TargetVerdict[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: os.loadavg(),
  };
}

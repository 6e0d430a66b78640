import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE, type Checkpoint, type ExperimentConfig } from './records.js';

/**
 * Reads `dir/checkpoint.json`. A file that is not a checkpoint (cut short, garbage, another
 * schema) gives an error naming it.
 */
export function readCheckpoint(dir: string): Checkpoint {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) throw new Error(`no checkpoint to resume from: ${file} does not exist`);
  let checkpoint: Checkpoint;
  try {
    checkpoint = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new Error(`${file}: not a checkpoint: invalid JSON (${error.message}), the file is cut short or damaged`, { cause: error });
  }
  const problem = checkpointProblem(checkpoint);
  if (problem !== undefined) throw new Error(`${file}: not a checkpoint of this app: ${problem}`);
  return checkpoint;
}

/** The most steps any variant of `checkpoint` has done. */
export function stepsDoneOf(checkpoint: Checkpoint): number {
  return Math.max(0, ...checkpoint.runs.map((run) => run.record.stepsDone));
}

/** What makes `value` (parsed JSON) not a checkpoint this version can resume, or undefined. */
function checkpointProblem(value: unknown): string | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) return `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
  if (value.schema !== 'batchnorm-mnist-checkpoint/1') {
    return `expected schema "batchnorm-mnist-checkpoint/1", got ${JSON.stringify(value.schema)}`;
  }
  const config = value.config;
  if (!isObject(config) || !Array.isArray(config.variants) || typeof config.backend !== 'string') {
    return 'no "config" with "backend" and "variants"';
  }
  const runs = value.runs;
  if (!Array.isArray(runs) || runs.length !== config.variants.length) {
    return `expected "runs", one per variant (${config.variants.length})`;
  }
  const bad = runs.findIndex(
    (run: unknown) => !isObject(run) || !isObject(run.record) || !Number.isInteger(run.record.stepsDone) || !isObject(run.model),
  );
  if (bad >= 0) return `runs[${bad}] has no "record" with "stepsDone" and "model"`;
  return undefined;
}

export function validateConfig(config: ExperimentConfig): void {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  };
  positive('steps', config.steps);
  positive('batchSize', config.batchSize);
  positive('evalEvery', config.evalEvery);
  positive('populationBatches', config.populationBatches);
  if (config.batchSize < 2 && config.variants.includes('bn')) {
    throw new Error('batch size must be at least 2 with BN (a batch of one has no variance)');
  }
  for (const variant of config.variants) {
    const lr = config.learningRates[variant];
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`learning rate of ${variant} must be > 0, got ${lr}`);
  }
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { KNOWN_BACKENDS } from '@batchnorm/core';
import { EXIT_CODES, usageLine } from '@batchnorm/core/node';
import { QUICK, runCli } from './__tests__/cliProcess.js';
import { BACKEND_NAMES } from './backends.js';
import { defaultDataDirectory, IDX_FILE_NAMES } from './data.js';
import { DEFAULTS, HELP, parseCommand, TOOL, UsageError } from './options.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

function run(...args: string[]) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the app first (pnpm build)`);
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('the mnist CLI', () => {
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--steps', 'abc'], /--steps: expected an integer ≥ 1, received "abc"/],
    [['--steps', '0'], /--steps: expected an integer ≥ 1/],
    [['--bn', 'maybe'], /--bn: expected one of on, off, both, received "maybe"/],
    [['--backend', 'cuda'], new RegExp(`--backend: expected one of ${BACKEND_NAMES.join(', ')}, received "cuda"`)],
    [['--lr=-1'], /--lr: expected a number > 0, received "-1"/],
    [['--lr', '0.1', '--lr-bn', '1'], /either --lr or --lr-bn\/--lr-plain/],
    [['--population', 'sometimes'], /--population: expected one of exact, moving/],
    [['--init', 'zeros'], /--init: expected one of glorot, gaussian/],
    [['--resume', 'somewhere', '--seed', '3'], /--resume .* not --seed/],
    [['--resume', 'somewhere', '--overwrite'], /--resume .* not --overwrite/],
    [['--test-limit', '0'], /--test-limit: expected an integer ≥ 1, received "0"/],
    [['stray-positional'], /Unexpected argument 'stray-positional'/],
  ])('rejects %j with exit code 2: core\'s error line, the usage line, where the options are', (args, message) => {
    const result = run(...args);
    expect(result.status).toBe(EXIT_CODES.usage);
    expect(EXIT_CODES.usage).toBe(2);
    const [error, ...rest] = result.stderr.split('\n');
    expect(error).toMatch(/^batchnorm-mnist: error: \S/);
    expect(error).toMatch(message);
    expect(rest).toEqual(['Usage: batchnorm-mnist [options]', "Run 'batchnorm-mnist --help' for the options.", '']);
    expect(result.stdout).toBe('');
  });

  it('documents every flag in --help, after one usage line', () => {
    const result = run('--help');
    expect(result.status).toBe(EXIT_CODES.ok);
    expect(result.stdout.split('\n')[0]).toBe(usageLine(TOOL));
    expect(result.stdout.match(/Usage:/g)).toHaveLength(1);
    for (const flag of ['--backend', '--backend-mode', '--bn', '--steps', '--batch', '--lr', '--lr-bn', '--lr-plain',
      '--seed', '--init', '--init-std', '--eval-every', '--population', '--population-batches', '--momentum', '--probe-unit', '--data',
      '--test-limit', '--out', '--overwrite', '--resume', '--help']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toBe(HELP);
  });

  it('fails with exit code 1 in one error line naming the file when the data directory has no MNIST files', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mnist-cli-'));
    const result = run('--backend', 'reference', '--data', empty, '--out', join(empty, 'out'), '--steps', '1');
    expect(result.status).toBe(EXIT_CODES.failed);
    expect(EXIT_CODES.failed).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => line.includes('error'));
    expect(errors).toEqual([`batchnorm-mnist: error: data file ${join(empty, 'train-images-idx3-ubyte')}: ` +
      `expected train-images-idx3-ubyte or train-images-idx3-ubyte.gz in ${empty}, received no such file.`]);
    expect(result.stderr.endsWith(`${errors[0]}\n`)).toBe(true);
    // not a usage error: no usage line, and no stack
    expect(result.stderr).not.toMatch(/Usage:|--help|^\s+at /m);
  });

  // Issue 13, item 20: a path on the command line that is not there is a usage error.
  it('rejects a --data directory that does not exist, or is a file, with exit code 2 naming it', () => {
    const base = mkdtempSync(join(tmpdir(), 'mnist-cli-'));
    const missing = join(base, 'no-such-dir');
    const missingRun = run('--backend', 'reference', '--data', missing, '--out', join(base, 'out'), '--steps', '1');
    expect(missingRun.status).toBe(2);
    expect(missingRun.stderr).toBe(
      `batchnorm-mnist: error: --data ${missing}: no such directory (it does not exist)\n` +
        "Usage: batchnorm-mnist [options]\nRun 'batchnorm-mnist --help' for the options.\n",
    );
    expect(existsSync(join(base, 'out'))).toBe(false);
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const fileRun = run('--backend', 'reference', '--data', file, '--out', join(base, 'out'), '--steps', '1');
    expect(fileRun.status).toBe(2);
    expect(fileRun.stderr).toContain(`--data ${file}`);
    expect(fileRun.stderr).toMatch(/not a directory/);
  });
});

/** A data directory with MNIST's training files and the given test files. */
function dataWithTest(files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-cli-data-'));
  for (const name of [IDX_FILE_NAMES.trainImages, IDX_FILE_NAMES.trainLabels]) {
    symlinkSync(join(defaultDataDirectory(), name), join(dir, name));
  }
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

function idxHeader(...words: number[]): Buffer {
  const header = Buffer.alloc(words.length * 4);
  words.forEach((word, i) => header.writeUInt32BE(word, i * 4));
  return header;
}

describe('the mnist CLI on bad data and checkpoints', () => {
  // Issue 13, item 16.
  it('rejects a test set of 0 images with exit code 1, naming the file', () => {
    const dir = dataWithTest({
      [IDX_FILE_NAMES.testImages]: idxHeader(0x803, 0, 28, 28),
      [IDX_FILE_NAMES.testLabels]: idxHeader(0x801, 0),
    });
    const result = run(...QUICK, '--steps', '1', '--data', dir, '--out', join(dir, 'out'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(join(dir, IDX_FILE_NAMES.testImages));
    expect(result.stderr).toMatch(/at least 1 image.*0 images/);
  });

  // Issue 13, item 17: 64 MiB of zeros behind a header that promises 10,000 labels.
  it('stops inflating a gzip file at the size its header implies, and says so', () => {
    const bomb = gzipSync(Buffer.concat([idxHeader(0x801, 10_000), Buffer.alloc(64 * 2 ** 20)]));
    expect(bomb.length).toBeLessThan(2 ** 20);
    const dir = dataWithTest({ [`${IDX_FILE_NAMES.testLabels}.gz`]: bomb });
    symlinkSync(join(defaultDataDirectory(), IDX_FILE_NAMES.testImages), join(dir, IDX_FILE_NAMES.testImages));
    const result = run(...QUICK, '--steps', '1', '--data', dir, '--out', join(dir, 'out'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(dir, IDX_FILE_NAMES.testLabels)}.gz`);
    expect(result.stderr).toMatch(/10008 bytes .*inflates to more than 10008 bytes/);
  });

  // Issue 13, item 18.
  it.each([
    ['cut short', '{"schema":"batchnorm-mnist-checkpoint/1","config":{"backend":"js"'],
    ['garbage', '\u0000\u0001 not json'],
    ['not an object', 'null'],
    ['without runs', '{"schema":"batchnorm-mnist-checkpoint/1","config":{"backend":"js","steps":5}}'],
  ])('names the file of a checkpoint that is %s (exit code 1)', (_kind, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-cli-'));
    writeFileSync(join(dir, 'checkpoint.json'), text);
    const result = run('--resume', dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^batchnorm-mnist: error: ${join(dir, 'checkpoint.json')}: not a checkpoint`, 'm'));
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  // Issue 13, item 19.
  it('rejects --resume --steps below the steps already done with exit code 2', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mnist-cli-')), 'run');
    expect(runCli([...QUICK, '--steps', '10', '--out', dir]).status).toBe(0);
    const checkpoint = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
    const result = run('--resume', dir, '--steps', '5');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--steps 5: .*already done 10 steps/);
    expect(readFileSync(join(dir, 'checkpoint.json'), 'utf8') === checkpoint).toBe(true); // (unchanged; a 1 MB diff would not help)
    expect(run('--resume', dir, '--steps', '10').status).toBe(0);
  });
});

describe('the backend choices', () => {
  it('are core\'s KNOWN_BACKENDS and the reference, in --help too', () => {
    expect(BACKEND_NAMES).toEqual([...KNOWN_BACKENDS.map((k) => k.name), 'reference']);
    expect(HELP).toContain(`--backend NAME        ${BACKEND_NAMES.join(' | ')} (default js)`);
    for (const name of BACKEND_NAMES) expect(parseCommand(['--backend', name])).toMatchObject({ backend: name });
  });
});

describe('parseCommand', () => {
  it('runs the paper experiment when given no flags', () => {
    expect(parseCommand([])).toMatchObject({
      kind: 'new',
      backend: DEFAULTS.backend,
      variants: ['bn', 'plain'],
      steps: 50_000,
      batchSize: 60,
      learningRates: { bn: DEFAULTS.lrBn, plain: DEFAULTS.lrPlain },
      population: DEFAULTS.population,
      dataDir: null,
    });
  });

  it('reads every flag', () => {
    expect(
      parseCommand(['--backend', 'reference', '--bn', 'on', '--steps', '10', '--batch', '30', '--lr', '0.25',
        '--seed', '9', '--init', 'glorot', '--eval-every', '5', '--population', 'moving', '--momentum', '0.2', '--data', 'd',
        '--test-limit', '100', '--probe-unit', '7', '--out', 'o']),
    ).toEqual({
      kind: 'new', backend: 'reference', backendMode: undefined, variants: ['bn'], steps: 10, batchSize: 30,
      learningRates: { bn: 0.25, plain: 0.25 }, seed: 9, init: { kind: 'glorot' }, evalEvery: 5, population: 'moving',
      populationBatches: DEFAULTS.populationBatches, momentum: 0.2, probeUnit: 7, dataDir: 'd', testLimit: 100,
      outDir: 'o', overwrite: false,
    });
    expect(parseCommand(['--out', 'o', '--overwrite'])).toMatchObject({ outDir: 'o', overwrite: true });
    expect(parseCommand(['--resume', 'r', '--steps', '20'])).toEqual({ kind: 'resume', dir: 'r', steps: 20, backendMode: undefined });
    expect(() => parseCommand(['--batch', '1'])).toThrow(UsageError);
    expect(parseCommand(['--init', 'gaussian', '--init-std', '0.05'])).toMatchObject({ init: { kind: 'gaussian', std: 0.05 } });
    expect(() => parseCommand(['--init', 'glorot', '--init-std', '0.05'])).toThrow(/--init-std applies to --init gaussian only/);
  });
});

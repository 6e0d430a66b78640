import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_BACKENDS } from '@batchnorm/core';
import { BACKEND_NAMES } from './backends.js';
import { DEFAULTS, HELP, parseCommand, UsageError } from './options.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

function run(...args: string[]) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the app first (pnpm build)`);
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('the mnist CLI', () => {
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--steps', 'abc'], /--steps: expected an integer ≥ 1, got "abc"/],
    [['--steps', '0'], /--steps: expected an integer ≥ 1/],
    [['--bn', 'maybe'], /--bn: expected one of on, off, both, got "maybe"/],
    [['--backend', 'cuda'], new RegExp(`--backend: expected one of ${BACKEND_NAMES.join(', ')}, got "cuda"`)],
    [['--lr=-1'], /--lr: expected a number > 0, got "-1"/],
    [['--lr', '0.1', '--lr-bn', '1'], /either --lr or --lr-bn\/--lr-plain/],
    [['--population', 'sometimes'], /--population: expected one of exact, moving/],
    [['--init', 'zeros'], /--init: expected one of glorot, gaussian/],
    [['--resume', 'somewhere', '--seed', '3'], /--resume .* not --seed/],
    [['stray-positional'], /Unexpected argument 'stray-positional'/],
  ])('rejects %j with exit code 2 and a clear message', (args, message) => {
    const result = run(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/--help/);
  });

  it('documents every flag in --help', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    for (const flag of ['--backend', '--backend-mode', '--bn', '--steps', '--batch', '--lr', '--lr-bn', '--lr-plain',
      '--seed', '--init', '--init-std', '--eval-every', '--population', '--population-batches', '--momentum', '--probe-unit', '--data',
      '--test-limit', '--out', '--resume', '--help']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toBe(HELP);
  });

  it('fails with exit code 1 naming the file when the data directory has no MNIST files', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mnist-cli-'));
    const result = run('--backend', 'reference', '--data', empty, '--out', join(empty, 'out'), '--steps', '1');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(join(empty, 'train-images-idx3-ubyte'));
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
      outDir: 'o',
    });
    expect(parseCommand(['--resume', 'r', '--steps', '20'])).toEqual({ kind: 'resume', dir: 'r', steps: 20, backendMode: undefined });
    expect(() => parseCommand(['--batch', '1'])).toThrow(UsageError);
    expect(parseCommand(['--init', 'gaussian', '--init-std', '0.05'])).toMatchObject({ init: { kind: 'gaussian', std: 0.05 } });
    expect(() => parseCommand(['--init', 'glorot', '--init-std', '0.05'])).toThrow(/--init-std applies to --init gaussian only/);
  });
});

import { BatchNormError } from '@batchnorm/core';
import { FULL_SHAPES, QUICK_SHAPES, parseShapes, type BenchShape } from './shapes.js';
import { ANCHOR_ENGINES, OUR_BACKENDS, TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from './names.js';

export const SUBJECT_NAMES: readonly string[] = [
  ...OUR_BACKENDS,
  ...ANCHOR_ENGINES.map((e) => TFJS_ANCHOR_NAMES[e]),
  ...ANCHOR_ENGINES.map((e) => TFJS_LAYERS_NAMES[e]),
];

export interface CliOptions {
  readonly quick: boolean;
  readonly json: boolean;
  /** Where to write the JSON document as well (atomically), whatever `json` says. */
  readonly out?: string;
  readonly help: boolean;
  /** Subjects to run; undefined means all. */
  readonly only?: ReadonlySet<string>;
  readonly shapes: readonly BenchShape[];
  readonly mnist: boolean;
}

export const USAGE = `Usage: pnpm bench [--quick] [--json] [--out FILE] [--only name,...]

  --quick        fewer shapes and samples (under a minute); skips tfjs-cpu on large shapes
  --json         print exactly one JSON document on stdout (progress goes to stderr);
                 pnpm prints its script banner on stdout first: use pnpm -s bench --json
  --out FILE     also write the JSON document to FILE (atomically: FILE is whole or untouched)
  --only a,b     run only these backends/anchors: ${SUBJECT_NAMES.join(', ')}
                 (the copy baseline always runs)

Exit status 1 when a backend computes a wrong result or fails; targets never change it.`;

function usageError(argument: string, expected: string, received: string): BatchNormError {
  return new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected, received });
}

export function parseArgs(argv: readonly string[]): CliOptions {
  let quick = false;
  let json = false;
  let help = false;
  let mnist = true;
  let out: string | undefined;
  let only: Set<string> | undefined;
  let shapes: BenchShape[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw usageError(flag, 'a value', 'nothing');
      return v;
    };
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--json':
        json = true;
        break;
      case '--out':
        out = value();
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      case '--no-mnist': // hidden: kernels only
        mnist = false;
        break;
      case '--shapes': // hidden: tests run tiny shapes
        shapes = parseShapes(value());
        break;
      case '--only': {
        const names = value().split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = names.filter((n) => !SUBJECT_NAMES.includes(n));
        if (unknown.length > 0) throw usageError('--only', `names among ${SUBJECT_NAMES.join(', ')}`, unknown.join(','));
        only = new Set(names);
        break;
      }
      default:
        throw usageError('arguments', 'one of --quick, --json, --out FILE, --only name,...', JSON.stringify(arg));
    }
  }
  return {
    quick,
    json,
    help,
    mnist,
    shapes: shapes ?? (quick ? QUICK_SHAPES : FULL_SHAPES),
    ...(only === undefined ? {} : { only }),
    ...(out === undefined ? {} : { out }),
  };
}

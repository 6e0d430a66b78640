import { BatchNormError } from '@batchnorm/core';
import { usageLine, UsageError } from '@batchnorm/core/node';
import { KERNEL_OPS, type KernelOp } from './byteModel.js';
import { FULL_SHAPES, QUICK_SHAPES, parseShapes, type BenchShape } from './shapes.js';
import { ANCHOR_ENGINES, OUR_BACKENDS, PYTORCH_NAME, TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from './names.js';
import type { TimedModes } from './runKernels.js';

export const SUBJECT_NAMES: readonly string[] = [
  ...OUR_BACKENDS,
  ...ANCHOR_ENGINES.map((e) => TFJS_ANCHOR_NAMES[e]),
  ...ANCHOR_ENGINES.map((e) => TFJS_LAYERS_NAMES[e]),
  PYTORCH_NAME,
];

/** `--mode` values. */
const MODES: Readonly<Record<string, TimedModes>> = {
  both: { readBack: true, resident: true },
  resident: { readBack: false, resident: true },
  'read-back': { readBack: true, resident: false },
};

export interface CliOptions {
  readonly quick: boolean;
  readonly json: boolean;
  /** Where to write the JSON document as well (atomically), whatever `json` says. */
  readonly out?: string;
  readonly help: boolean;
  /** Subjects to run; undefined means all. */
  readonly only?: ReadonlySet<string>;
  readonly shapes: readonly BenchShape[];
  /** Kernel ops to time. */
  readonly ops: readonly KernelOp[];
  readonly modes: TimedModes;
  /** Rounds per case, overriding the plan's (multi-second cases keep one). */
  readonly rounds?: number;
  readonly mnist: boolean;
  /** The python of the PyTorch anchor (`--python`; else $BATCHNORM_BENCH_PYTHON, else python3). */
  readonly python?: string;
  /** PyTorch's thread count (`--torch-threads`; else backend-js's, else the CPU count). */
  readonly torchThreads?: number;
}

/** The command's name, as installed (`pnpm bench` runs it). */
export const TOOL = 'batchnorm-bench';

export const USAGE = `${usageLine(TOOL, `[--quick] [--json] [--out FILE] [--only name,...] [--shapes LIST]
                       [--ops LIST] [--mode both|resident|read-back] [--rounds N] [--no-mnist]
                       [--python PATH] [--torch-threads N]`)}
(pnpm bench from the repository root)

  --quick        fewer shapes and samples (under a minute); skips tfjs-cpu on large shapes
  --json         print exactly one JSON document on stdout (progress goes to stderr);
                 pnpm prints its script banner on stdout first: use pnpm -s bench --json
  --out FILE     also write the JSON document to FILE (atomically: FILE is whole or untouched)
  --only a,b     run only these backends/anchors: ${SUBJECT_NAMES.join(', ')}
                 (the copy baseline always runs)
  --shapes LIST  time these shapes instead, e.g. NHWC:32x56x56x64,NC:4096x4096 (--shape too)
  --ops LIST     kernel ops among ${KERNEL_OPS.join(', ')}; leaves the MNIST step
                 out unless the list has mnistStep
  --mode M       both (default), resident (outputs stay on the device) or read-back
  --rounds N     rounds per case (default 3, --quick 2); min/median/max across them
  --no-mnist     kernels only
  --python PATH  python for the PyTorch anchor (default $BATCHNORM_BENCH_PYTHON, else python3);
                 without torch there, pytorch is skipped with one line saying why
  --torch-threads N  PyTorch's threads (default: backend-js's thread count)

Exit status (docs/cli.md): 0 ok, 1 a backend computed a wrong result or failed (targets never
change it), 2 usage error, 130/143 stopped by SIGINT/SIGTERM.`;

function usageError(argument: string, expected: string, received: string): BatchNormError {
  return new BatchNormError({ code: 'INVALID_ARGUMENT', argument, expected, received });
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw usageError(flag, 'an integer from 1 to 1000', JSON.stringify(text));
  return n;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  let quick = false;
  let json = false;
  let help = false;
  let mnist = true;
  let out: string | undefined;
  let only: Set<string> | undefined;
  let shapes: BenchShape[] | undefined;
  let ops: KernelOp[] | undefined;
  let modes: TimedModes = MODES.both!;
  let rounds: number | undefined;
  let python: string | undefined;
  let torchThreads: number | undefined;
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
      case '--no-mnist':
        mnist = false;
        break;
      case '--shape':
      case '--shapes':
        shapes = parseShapes(value());
        break;
      case '--ops': {
        const names = value().split(',').map((s) => s.trim()).filter(Boolean);
        const known = [...KERNEL_OPS, 'mnistStep'];
        const unknown = names.filter((n) => !known.includes(n));
        if (unknown.length > 0 || names.length === 0) throw usageError('--ops', `names among ${known.join(', ')}`, unknown.join(',') || 'nothing');
        ops = KERNEL_OPS.filter((op) => names.includes(op));
        if (!names.includes('mnistStep')) mnist = false;
        break;
      }
      case '--mode': {
        const text = value();
        const chosen = MODES[text];
        if (chosen === undefined) throw usageError('--mode', `one of ${Object.keys(MODES).join(', ')}`, JSON.stringify(text));
        modes = chosen;
        break;
      }
      case '--rounds':
        rounds = positiveInteger('--rounds', value());
        break;
      case '--python':
        python = value();
        break;
      case '--torch-threads':
        torchThreads = positiveInteger('--torch-threads', value());
        break;
      case '--only': {
        const names = value().split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = names.filter((n) => !SUBJECT_NAMES.includes(n));
        if (unknown.length > 0) throw usageError('--only', `names among ${SUBJECT_NAMES.join(', ')}`, unknown.join(','));
        only = new Set(names);
        break;
      }
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  return {
    quick,
    json,
    help,
    mnist,
    shapes: shapes ?? (quick ? QUICK_SHAPES : FULL_SHAPES),
    ops: ops ?? KERNEL_OPS,
    modes,
    ...(rounds === undefined ? {} : { rounds }),
    ...(only === undefined ? {} : { only }),
    ...(out === undefined ? {} : { out }),
    ...(python === undefined ? {} : { python }),
    ...(torchThreads === undefined ? {} : { torchThreads }),
  };
}

import { parseArgs } from 'node:util';
import { EXIT_CODES, UsageError, usageLine } from '@batchnorm/core/node';
import { cliBackendNames } from './cliBackends.js';
import type { GridSize } from './grid.js';

/** The command's name, the prefix of its error lines. */
export const TOOL = 'batchnorm-conformance';

/** The exit statuses: the shared table (docs/cli.md) and this CLI's own two. */
export const EXIT = {
  ...EXIT_CODES,
  nothingChecked: 3,
  /** What a tool killed by SIGPIPE reports: stdout was closed (`| head`) before the run ended. */
  stdoutClosed: 141,
} as const;

/** Every backend name the CLI accepts, from core's one list (plus the reference). */
export const BACKEND_NAMES = cliBackendNames();

export const USAGE = `${usageLine(TOOL)}

Runs the batchnorm conformance suite on one or more backends.

Options:
  --backend NAME     ${BACKEND_NAMES.join(', ')}, a comma list of these, or all
                     (every installed backend; the default). Several backends run one
                     after another, each in its own child process
  --vectors FILE     run the cases of a batchnorm-vectors/1 file instead of the built-in
                     grid and checks
  --onnx-test DIR... run ONNX backend tests instead: DIR holds model.onnx (one
                     BatchNormalization node) and test_data_set_*/ of input_*.pb and
                     output_*.pb, or DIR is a folder of such directories; judged with
                     ONNX's own tolerance (atol 1e-7, rtol 1e-3). Several DIRs may follow
  --grid quick|full  which built-in grid to run (default quick; full adds the large shapes)
  --skip PATTERN     skip cases by name; * is a wildcard (repeatable)
  --mode X           passed to the one backend's createBackend as { mode: X } (see its README)
  --json             print exactly one JSON document on stdout (logs go to stderr)
  --report FILE.md   also write a Markdown table backend × case with the errors
  --help             show this help

A backend is judged with the tolerance profile its manifest names (traits.tolerance). A backend
whose manifest requires a display needs DISPLAY set: run under xvfb-run -a where there is none.

Exit status (the shared table is docs/cli.md):
  0    every case passed on every backend
  1    some case failed, or a backend failed to start
  2    usage error, malformed vector file or ONNX test, or an output path that cannot be written
  3    nothing was checked: the vector file holds no cases, or --skip skipped them all
  130  stopped by SIGINT (Ctrl-C); 143 by SIGTERM
  141  stdout was closed before the run ended (| head); when it had ended, its own status`;

export interface CliOptions {
  readonly backends: readonly string[];
  readonly all: boolean;
  readonly vectors?: string;
  /** `--onnx-test` directories, as given. */
  readonly onnxTests?: readonly string[];
  readonly grid: GridSize;
  readonly skip: readonly string[];
  readonly mode?: string;
  readonly json: boolean;
  readonly report?: string;
}

/** The options of `argv`, `'help'`, or a `UsageError` saying what is wrong with them. */
export function parseOptions(argv: readonly string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        backend: { type: 'string' },
        vectors: { type: 'string' },
        'onnx-test': { type: 'string', multiple: true },
        grid: { type: 'string' },
        skip: { type: 'string', multiple: true },
        mode: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      // the directories after the first of `--onnx-test DIR DIR…`
      allowPositionals: true,
    });
  } catch (error) {
    // Node's own message for this one is long and suggests `--`: say it as the other CLIs do
    const { code, message } = error as NodeJS.ErrnoException;
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(message)?.[1] : undefined;
    throw new UsageError(unknown === undefined ? message : `unknown option ${JSON.stringify(unknown)}`);
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  const onnxTests = v['onnx-test'] === undefined ? undefined : [...v['onnx-test'], ...parsed.positionals];
  if (onnxTests === undefined && parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  if (onnxTests !== undefined && v.vectors !== undefined) throw new UsageError('--vectors and --onnx-test cannot be combined: run them one after the other');
  if (onnxTests?.includes('') === true) throw new UsageError('--onnx-test needs a directory');
  const grid = v.grid ?? 'quick';
  if (grid !== 'quick' && grid !== 'full') throw new UsageError(`--grid: expected quick or full, received ${JSON.stringify(grid)}`);
  const requested = (v.backend ?? 'all').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (requested.length === 0) throw new UsageError('--backend needs a name');
  const all = requested.includes('all');
  for (const name of requested) {
    if (name !== 'all' && !BACKEND_NAMES.includes(name)) {
      throw new UsageError(`unknown backend "${name}": expected one of ${[...BACKEND_NAMES, 'all'].join(', ')}`);
    }
  }
  const backends = all ? BACKEND_NAMES : BACKEND_NAMES.filter((name) => requested.includes(name));
  // Backends reject option keys they do not know, so a mode means one backend's mode.
  if (v.mode !== undefined && (all || backends.length !== 1)) {
    throw new UsageError(`--mode applies to one backend's createBackend: use it with --backend NAME (got --backend ${requested.join(',')})`);
  }
  if (v.report !== undefined && v.report === '') throw new UsageError('--report needs a file name');
  return {
    backends,
    all,
    ...(v.vectors === undefined ? {} : { vectors: v.vectors }),
    ...(onnxTests === undefined ? {} : { onnxTests }),
    grid,
    skip: v.skip ?? [],
    ...(v.mode === undefined ? {} : { mode: v.mode }),
    json: v.json === true,
    ...(v.report === undefined ? {} : { report: v.report }),
  };
}

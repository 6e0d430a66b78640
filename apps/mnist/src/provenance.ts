import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, loadavg, platform, release, type as osType } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where and how one invocation of the CLI ran: what a reader needs to judge or repeat its numbers. */
export interface Session {
  /** The command as typed, after the program name (`pnpm mnist` or `node dist/cli.js`). */
  readonly argv: readonly string[];
  readonly node: string;
  readonly cpu: string;
  readonly cpuCount: number;
  readonly os: string;
  /** The 1-minute load average when the run started (timings on a shared machine depend on it); null where the OS has none. */
  readonly loadAverage: number | null;
  /** Versions of the @batchnorm packages the run used (the app, core, interop, the backend's). */
  readonly packages: Readonly<Record<string, string>>;
  /** The repository's commit, `+dirty` when the working tree had changes; null outside a git checkout. */
  readonly gitCommit: string | null;
  readonly startedAt: string;
  /** Wall time of the whole invocation so far (data loading, training, evaluations, files), seconds. */
  wallSeconds: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The version in `name`'s package.json as this app resolves it, or null when it cannot be found. */
export function packageVersion(name: string): string | null {
  try {
    const json = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : null;
  } catch {
    return null;
  }
}

/** `HEAD` of the checkout holding this app, with `+dirty` for local changes; null without git or outside a checkout. */
export function gitCommit(cwd = here): string | null {
  const git = (args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 5000 });
  const head = git(['rev-parse', 'HEAD']);
  if (head.status !== 0 || head.error !== undefined) return null;
  const commit = head.stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(commit)) return null;
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return status.status === 0 && status.stdout.trim() !== '' ? `${commit}+dirty` : commit;
}

/** The @batchnorm packages behind a run on the backend of package `backendPackage`. */
export function batchnormPackages(backendPackage: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const name of new Set(['@batchnorm/mnist', '@batchnorm/core', '@batchnorm/interop', backendPackage])) {
    packages[name] = packageVersion(name) ?? 'unknown';
  }
  return packages;
}

/** A new session started now (`startedAt`, wall time 0). */
export function startSession(argv: readonly string[], backendPackage: string, started = new Date()): Session {
  const cpuList = cpus();
  return {
    argv: [...argv],
    node: process.version,
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    os: `${osType()} ${release()} (${platform()} ${arch()})`,
    loadAverage: platform() === 'win32' ? null : Math.round(loadavg()[0]! * 100) / 100,
    packages: batchnormPackages(backendPackage),
    gitCommit: gitCommit(),
    startedAt: started.toISOString(),
    wallSeconds: 0,
  };
}

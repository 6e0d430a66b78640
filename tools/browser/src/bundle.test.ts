import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build as esbuild, formatMessages, type Message } from 'esbuild';
import type { Browser } from 'playwright-core';
import { build as viteBuild, createLogger, type Rollup } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, launchChromium, nodeBuiltinProblems, runPage, serve, toolDir, writeAtomic, type StaticServer } from './harness.js';
import type { StepReport } from './report.js';

const repoRoot = join(toolDir, '..', '..');
const appDir = join(toolDir, 'src', 'bundle-app');
const workDir = join(artifactsDir, 'bundle');
const packsDir = join(workDir, 'packs');
const projectDir = join(workDir, 'project');
/** The published packages the app imports by name. */
const PACKAGES = ['core', 'backend-js'];
const TOLERANCE = 1e-4;

interface BuildResult {
  readonly log: string[];
  readonly failed: boolean;
  readonly bundle: string;
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** `pnpm pack` each package (workspace ranges become versions), `npm install` the tarballs into an empty project. */
function installPacked(): string {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(packsDir, { recursive: true });
  mkdirSync(join(projectDir, 'src'), { recursive: true });
  const tarballs = PACKAGES.map((dir) => {
    const packageDir = join(repoRoot, 'packages', dir);
    if (!existsSync(join(packageDir, 'dist', 'index.js'))) throw new Error(`${packageDir}/dist is missing: pnpm --filter ./packages/${dir} build`);
    return run('pnpm', ['pack', '--pack-destination', packsDir], packageDir).trim().split('\n').at(-1)!;
  });
  writeFileSync(join(projectDir, 'package.json'), JSON.stringify({ name: 'bundle-app', private: true, type: 'module' }, null, 2));
  // every package comes from a tarball; nothing else is needed from a registry
  const log = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], projectDir);
  copyFileSync(join(appDir, 'app.ts'), join(projectDir, 'src', 'app.ts'));
  return log;
}

async function buildWithEsbuild(): Promise<BuildResult> {
  const outDir = join(projectDir, 'esbuild');
  mkdirSync(outDir, { recursive: true });
  copyFileSync(join(appDir, 'index.html'), join(outDir, 'index.html'));
  const log: string[] = [];
  const text = async (messages: Message[], kind: 'error' | 'warning'): Promise<void> => {
    for (const line of await formatMessages(messages, { kind, color: false })) log.push(`${kind}: ${line}`);
  };
  let failed = false;
  try {
    const result = await esbuild({
      absWorkingDir: projectDir,
      entryPoints: ['src/app.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      outfile: join(outDir, 'app.js'),
      logLevel: 'silent',
    });
    await text(result.warnings, 'warning');
    await text(result.errors, 'error');
    failed = result.errors.length > 0;
  } catch (error) {
    const { errors = [], warnings = [] } = error as { errors?: Message[]; warnings?: Message[] };
    await text(errors, 'error');
    await text(warnings, 'warning');
    if (errors.length === 0) log.push(`error: ${String(error)}`);
    failed = true;
  }
  writeAtomic(join(workDir, 'esbuild.log'), log.join('\n') + '\n');
  const bundle = failed ? '' : readFileSync(join(outDir, 'app.js'), 'utf8');
  return { log, failed, bundle };
}

async function buildWithVite(): Promise<BuildResult> {
  const outDir = join(projectDir, 'vite');
  writeFileSync(join(projectDir, 'index.html'), readFileSync(join(appDir, 'index.html'), 'utf8').replace('./app.js', './src/app.ts'));
  const log: string[] = [];
  const logger = createLogger('info');
  const { warn, error } = logger;
  logger.warn = (message, options) => {
    log.push(`warning: ${message}`);
    warn(message, options);
  };
  logger.error = (message, options) => {
    log.push(`error: ${message}`);
    error(message, options);
  };
  let failed = false;
  try {
    await viteBuild({ root: projectDir, base: './', configFile: false, customLogger: logger, logLevel: 'warn', build: { outDir, emptyOutDir: true, target: 'es2022' } });
  } catch (thrown) {
    log.push(`error: ${(thrown as Rollup.RollupError).message}`);
    failed = true;
  }
  writeAtomic(join(workDir, 'vite.log'), log.join('\n') + '\n');
  const assets = join(outDir, 'assets');
  const bundle = failed || !existsSync(assets) ? '' : readdirSync(assets).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(assets, f), 'utf8')).join('\n');
  return { log, failed, bundle };
}

const builds: Record<string, BuildResult> = {};
let browser: Browser | undefined;
let isolated: StaticServer | undefined;
let open: StaticServer | undefined;
const summary: string[] = [];

beforeAll(async () => {
  const started = performance.now();
  writeAtomic(join(workDir, 'npm-install.log'), installPacked());
  builds['esbuild'] = await buildWithEsbuild();
  builds['vite'] = await buildWithVite();
  summary.push(`  pack + npm install + esbuild + vite: ${Math.round(performance.now() - started)} ms (logs in ${workDir})`);
  isolated = await serve(projectDir, true);
  open = await serve(projectDir, false);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await isolated?.close();
  await open?.close();
  process.stdout.write(`bundled BatchNorm step in headless Chromium:\n${summary.join('\n')}\n`);
});

describe.each(['esbuild', 'vite'])('an app importing the packed packages by name, bundled with %s', (bundler) => {
  it('builds for the browser with no errors and no word of a Node built-in', () => {
    const { log, failed, bundle } = builds[bundler]!;
    expect(log.filter((line) => line.startsWith('error: '))).toEqual([]);
    expect(failed).toBe(false);
    expect(nodeBuiltinProblems(log)).toEqual([]);
    expect(bundle.length).toBeGreaterThan(0);
    expect(bundle).not.toMatch(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']node:/);
  });

  it.each([true, false])('runs a training step (forward + backward) in Chromium, cross-origin isolated: %s, matching the reference within 1e-4', async (crossOriginIsolated) => {
    expect(builds[bundler]!.failed, `the ${bundler} build failed: see ${workDir}/${bundler}.log`).toBe(false);
    const server = crossOriginIsolated ? isolated! : open!;
    const tag = `${bundler}-${crossOriginIsolated ? 'isolated' : 'not-isolated'}`;
    const page = await runPage<StepReport>(browser!, `${server.origin}/${bundler}/index.html`, join(artifactsDir, `bundle-${tag}.png`), 300_000);
    const report = page.report;
    expect(report, page.console.join('\n')).toBeDefined();
    expect(report!.error, page.console.join('\n')).toBeUndefined();
    expect(report!.crossOriginIsolated).toBe(crossOriginIsolated);
    const outputs = Object.keys(report!.errors);
    expect(outputs).toEqual(['y', 'dx', 'dgamma', 'dbeta', 'runningMean', 'runningVar']);
    for (const output of outputs) expect(report!.errors[output], output).toBeLessThanOrEqual(TOLERANCE);
    if (crossOriginIsolated) {
      expect(report!.details['threads'], JSON.stringify(report!.details)).toBeGreaterThan(1);
      expect(report!.helperChunks).toBeGreaterThan(0);
    } else {
      expect(report!.details['threads'], JSON.stringify(report!.details)).toBe(1);
      expect(JSON.stringify(report!.details)).toContain('cross-origin isolated');
    }
    const worst = Math.max(...Object.values(report!.errors));
    summary.push(
      `  ${tag.padEnd(21)} step ${report!.ms} ms (page ${page.ms} ms), worst error ${worst.toExponential(2)}, ` +
        `details ${JSON.stringify(report!.details)}, helper chunks ${report!.helperChunks}`,
    );
  });
});

import { BatchNormError, describeValue } from '@batchnorm/core';
import { GPU } from 'gpu.js';

/** The gpu.js modes this backend runs in; `auto` picks the best one available. */
export type GpuJsMode = 'headlessgl' | 'webgl' | 'webgl2' | 'cpu';
export type GpuJsModeOption = GpuJsMode | 'auto';

export const GPU_JS_MODES: readonly GpuJsModeOption[] = ['auto', 'headlessgl', 'webgl2', 'webgl', 'cpu'];

export interface ResolvedMode {
  readonly mode: GpuJsMode;
  /** Why `auto` did not pick a GPU mode; empty when it did or when a mode was asked for. */
  readonly fallbackReason: string;
}

const HEADLESS_GL_DEPS = 'libxi-dev libxext-dev libx11-dev pkg-config';

function isBrowser(): boolean {
  return 'window' in globalThis && 'document' in globalThis;
}

interface NodeProcess {
  readonly env: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const candidate = (globalThis as { process?: NodeProcess }).process;
  return candidate !== undefined && typeof candidate.env === 'object' ? candidate : undefined;
}

/** Tries to load headless-gl's native binding the way gpu.js does; returns the error, if any. */
function glBindingError(): string | undefined {
  const proc = nodeProcess();
  const moduleApi = proc?.getBuiltinModule?.('node:module') as
    | { createRequire(from: string): NodeJS.Require }
    | undefined;
  if (moduleApi === undefined) return undefined;
  try {
    const requireHere = moduleApi.createRequire(import.meta.url);
    // `gl` is gpu.js's dependency, not ours: resolve it from gpu.js.
    const requireFromGpuJs = moduleApi.createRequire(requireHere.resolve('gpu.js'));
    requireFromGpuJs('gl');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

/** What decides whether headless-gl can start: gathered from the environment, or given in tests. */
export interface HeadlessGlFacts {
  readonly inBrowser: boolean;
  /** The error loading `gl`'s native binding, when it failed. */
  readonly bindingError: string | undefined;
  /** `$DISPLAY`. */
  readonly display: string | undefined;
}

function headlessGlFacts(): HeadlessGlFacts {
  const inBrowser = isBrowser();
  return {
    inBrowser,
    bindingError: inBrowser ? undefined : glBindingError(),
    display: nodeProcess()?.env['DISPLAY'],
  };
}

/** Why headless-gl cannot start, with how to fix it. */
export function describeHeadlessGlProblem(facts: HeadlessGlFacts): { received: string; hint: string } {
  if (facts.inBrowser) {
    return {
      received: '"headlessgl" in a browser',
      hint: 'headless-gl is for Node; in a browser use mode "webgl2" or "webgl" (or "auto").',
    };
  }
  if (facts.bindingError !== undefined) {
    return {
      received: `"headlessgl", but the \`gl\` native binding is not built (${facts.bindingError})`,
      hint:
        `Install its build dependencies (Debian: apt-get install ${HEADLESS_GL_DEPS}), then rebuild it ` +
        'so that its build script runs: `npm rebuild gl` (Yarn 1 too; Yarn 2+: `yarn rebuild gl`; pnpm: ' +
        'allow it with onlyBuiltDependencies: [gl] in pnpm-workspace.yaml, then `pnpm rebuild gl`).',
    };
  }
  if (facts.display === undefined || facts.display === '') {
    return {
      received: '"headlessgl", but there is no X display (DISPLAY is unset)',
      hint: 'headless-gl needs an X server: run under `xvfb-run -a` (Debian: apt-get install xvfb xauth).',
    };
  }
  return {
    received: `"headlessgl", but headless-gl could not create a WebGL context on DISPLAY=${facts.display}`,
    hint: 'Check that the X server is running and reachable (e.g. run under `xvfb-run -a`).',
  };
}

function webglProblem(mode: 'webgl' | 'webgl2'): { received: string; hint: string } {
  if (!isBrowser()) {
    return {
      received: `"${mode}" outside a browser`,
      hint: 'In Node use mode "headlessgl" (under `xvfb-run -a`), "cpu" or "auto".',
    };
  }
  return {
    received: `"${mode}", but this browser offers no ${mode === 'webgl2' ? 'WebGL2' : 'WebGL'} context with float textures`,
    hint: 'Enable hardware acceleration, or start Chromium with --use-angle=swiftshader --enable-unsafe-swiftshader; mode "cpu" always works.',
  };
}

function isSupported(mode: GpuJsMode): boolean {
  switch (mode) {
    case 'headlessgl':
      return !isBrowser() && GPU.isHeadlessGLSupported;
    case 'webgl2':
      return isBrowser() && GPU.isWebGL2Supported;
    case 'webgl':
      return isBrowser() && GPU.isWebGLSupported;
    case 'cpu':
      return true;
  }
}

function unavailable(mode: GpuJsMode): BatchNormError {
  const { received, hint } = mode === 'headlessgl' ? describeHeadlessGlProblem(headlessGlFacts()) : webglProblem(mode as 'webgl' | 'webgl2');
  return new BatchNormError({
    code: 'BACKEND_UNAVAILABLE',
    argument: 'options.mode',
    expected: 'a gpu.js mode that can start here',
    received,
    hint,
  });
}

/**
 * Picks the gpu.js mode: the one asked for, or for `auto` the best available (WebGL2, then
 * WebGL in a browser; headless-gl in Node; else gpu.js's CPU fallback).
 *
 * @throws BatchNormError `BACKEND_UNAVAILABLE` saying why a GPU mode cannot start and how to fix
 * it; `INVALID_ARGUMENT` for an unknown mode.
 */
export function resolveMode(requested: unknown = 'auto'): ResolvedMode {
  if (typeof requested !== 'string' || !(GPU_JS_MODES as readonly string[]).includes(requested)) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'options.mode',
      expected: `one of ${GPU_JS_MODES.map((m) => `"${m}"`).join(', ')}`,
      received: describeValue(requested),
    });
  }
  const option = requested as GpuJsModeOption;
  if (option !== 'auto') {
    if (!isSupported(option)) throw unavailable(option);
    return { mode: option, fallbackReason: '' };
  }
  const candidates: GpuJsMode[] = isBrowser() ? ['webgl2', 'webgl'] : ['headlessgl'];
  for (const mode of candidates) if (isSupported(mode)) return { mode, fallbackReason: '' };
  const reason = isBrowser() ? webglProblem('webgl2').received : describeHeadlessGlProblem(headlessGlFacts()).received;
  return { mode: 'cpu', fallbackReason: reason };
}

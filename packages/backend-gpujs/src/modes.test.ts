import { createRequire } from 'node:module';
import { thrownBatchNormError } from '@batchnorm/conformance/testing';
import { describe, expect, it } from 'vitest';
import { createBackend } from './backend.js';
import { describeHeadlessGlProblem, resolveMode } from './modes.js';

describe('modes', () => {
  it('rejects an unknown mode, naming the option and the modes', () => {
    // an unknown mode is a type error too: cast past it to check the run-time rejection
    const error = thrownBatchNormError(() => createBackend({ mode: 'webgpu' as never }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.argument).toBe('options.mode');
    expect(error.message).toContain('"headlessgl"');
  });

  it('refuses the browser modes in Node, saying what to use instead', () => {
    for (const mode of ['webgl', 'webgl2'] as const) {
      const error = thrownBatchNormError(() => resolveMode(mode));
      expect(error.code).toBe('BACKEND_UNAVAILABLE');
      expect(error.message).toContain('outside a browser');
      expect(error.message).toContain('headlessgl');
    }
  });

  it('explains a missing gl binding and a missing display, each with its fix', () => {
    const noBinding = describeHeadlessGlProblem({
      inBrowser: false,
      bindingError: "Cannot find module '../build/Release/webgl.node'",
      display: ':99',
    });
    expect(noBinding.received).toContain('`gl` native binding is not built');
    expect(noBinding.received).toContain('webgl.node');
    expect(noBinding.hint).toContain('libxi-dev libxext-dev libx11-dev pkg-config');
    // the fix for any package manager, npm's first (pnpm's build-script allow list is one option among them)
    expect(noBinding.hint).toMatch(/`npm rebuild gl`/);
    expect(noBinding.hint).toContain('yarn rebuild gl');
    expect(noBinding.hint).toMatch(/pnpm.*onlyBuiltDependencies.*pnpm rebuild gl/);
    const noDisplay = describeHeadlessGlProblem({ inBrowser: false, bindingError: undefined, display: undefined });
    expect(noDisplay.received).toContain('DISPLAY is unset');
    expect(noDisplay.hint).toContain('xvfb-run -a');
    const badDisplay = describeHeadlessGlProblem({ inBrowser: false, bindingError: undefined, display: ':42' });
    expect(badDisplay.received).toContain('DISPLAY=:42');
  });

  it('cpu mode always starts and says so, with the gpu.js version installed', () => {
    const backend = createBackend({ mode: 'cpu' });
    expect(backend.mode).toBe('cpu');
    expect(backend.details['mode']).toBe('cpu');
    const { version } = createRequire(import.meta.url)('gpu.js/package.json') as { version: string };
    expect(backend.details['engine']).toBe(`gpu.js ${version}`);
    backend.destroy();
  });

  // core's checkedOptions is tested in core: here only that this factory calls it with its keys
  it('refuses an unknown option key, naming it and the known one', () => {
    // @ts-expect-error -- `mdoe` is not an option: the type says so too
    const error = thrownBatchNormError(() => createBackend({ mdoe: 'cpu' }));
    expect(error.argument).toBe('options.mdoe');
    expect(error.expected).toContain('"mode"');
  });

  // The test command runs under `xvfb-run -a` with gl built: auto must then find the GPU.
  // Without a display it reports why it fell back, and asking for headlessgl says how to fix it.
  it('auto picks headlessgl when a display and the gl binding exist, else says why not', () => {
    const { mode, fallbackReason } = resolveMode('auto');
    if (process.env['DISPLAY']) {
      expect(mode).toBe('headlessgl');
      expect(fallbackReason).toBe('');
    } else {
      expect(mode).toBe('cpu');
      expect(fallbackReason).toContain('DISPLAY is unset');
      const error = thrownBatchNormError(() => resolveMode('headlessgl'));
      expect(error.code).toBe('BACKEND_UNAVAILABLE');
      expect(error.message).toContain('xvfb-run -a');
    }
  });

  it('a disposed tensor and a destroyed backend are refused clearly', () => {
    const backend = createBackend({ mode: 'cpu' });
    const t = backend.upload(new Float32Array([1, 2]), [2]);
    backend.dispose(t);
    backend.dispose(t);
    expect(thrownBatchNormError(() => backend.readSync(t)).code).toBe('INVALID_HANDLE');
    backend.destroy();
    expect(thrownBatchNormError(() => backend.upload(new Float32Array([1]), [1])).code).toBe('INVALID_STATE');
  });
});

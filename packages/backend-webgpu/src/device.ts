import { BatchNormError, describeValue } from '@batchnorm/core';
import type * as Webgpu from 'webgpu';
import { keepAlive } from './keepAlive.js';
import type { GpuTimeUnavailable } from './types.js';

/** The Debian packages Dawn's OpenGL backend needs on a machine without a GPU (Mesa llvmpipe). */
export const MESA_PACKAGES = 'libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri';

/** The fewest storage buffers one shader binds here (backward's second pass binds eight). */
export const MIN_STORAGE_BUFFERS = 8;

/** An adapter and device, with what we learned getting them (for `details`). */
export interface AcquiredDevice {
  /**
   * The instance the adapter came from. Whoever holds the device must hold this too: Dawn's
   * instance does the device's event processing, and a collected instance takes the process down.
   */
  readonly gpu: GPU;
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly info: GPUAdapterInfo;
  /** `navigator.gpu` (a browser, Deno) or Dawn through the `webgpu` npm package. */
  readonly api: 'navigator.gpu' | 'dawn';
  /** The Dawn flags that gave the adapter (Node only). */
  readonly dawnFlags?: readonly string[];
  readonly featureLevel: 'core' | 'compatibility';
  /** Whether the reductions use `subgroupAdd`, and why (not). */
  readonly subgroups: { readonly enabled: boolean; readonly reason: string };
  /** Whether kernel calls are timed with timestamp queries, or why not. */
  readonly gpuTime: 'timestamp-query' | GpuTimeUnavailable;
}

export interface AcquireOptions {
  readonly subgroups: boolean;
  /** Request `timestamp-query` where the adapter has it (default true). */
  readonly timestamps?: boolean;
  readonly dawnFlags?: readonly string[];
  readonly powerPreference?: GPUPowerPreference;
}

interface Attempt {
  readonly gpu: GPU;
  readonly flags?: readonly string[];
  readonly featureLevel: 'core' | 'compatibility';
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

function navigatorGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? undefined;
}

function unavailable(expected: string, received: string, hint: string, cause?: unknown): BatchNormError {
  return new BatchNormError(
    { code: 'BACKEND_UNAVAILABLE', argument: 'webgpu', expected, received, hint },
    cause === undefined ? undefined : { cause },
  );
}

/** Node's setup hint: the packages and the environment Dawn's OpenGL backend needs. */
function nodeHint(): string {
  const egl = process.env['EGL_PLATFORM'];
  return (
    `On Linux without a GPU, Dawn runs on Mesa's OpenGL: install ${MESA_PACKAGES} ` +
    `(Debian: apt-get install ${MESA_PACKAGES}; the repository's scripts/setup.sh does it) and keep ` +
    `EGL_PLATFORM=surfaceless (this package sets it when unset; it is ${egl === undefined ? 'unset' : `"${egl}"`}). ` +
    'With a GPU: install its Vulkan driver (libvulkan1 and the vendor ICD).'
  );
}

/** Loads Dawn (the `webgpu` package) without letting a browser bundler follow the import. */
async function loadDawn(): Promise<typeof Webgpu> {
  const specifier = 'webgpu';
  try {
    const dawn: typeof Webgpu = await import(/* @vite-ignore */ specifier);
    return dawn;
  } catch (error) {
    throw unavailable(
      'the webgpu package (Dawn for Node) to load',
      error instanceof Error ? error.message : describeValue(error),
      `Install it (npm install webgpu); it ships Dawn binaries for linux-x64 (glibc ≥ 2.34), linux-arm64, darwin and win32. ${nodeHint()}`,
      error,
    );
  }
}

/** The instances and feature levels to try, in order. */
async function attempts(options: AcquireOptions): Promise<Attempt[]> {
  const browser = navigatorGpu();
  if (browser !== undefined) {
    return [
      { gpu: browser, featureLevel: 'core' },
      { gpu: browser, featureLevel: 'compatibility' },
    ];
  }
  if (!isNode()) {
    throw unavailable(
      'a WebGPU implementation (navigator.gpu)',
      'no navigator.gpu in this environment',
      'Use a browser with WebGPU enabled (Chrome/Edge 113+, Firefox 141+, Safari 26+; headless Chromium needs --enable-unsafe-webgpu), or Node with the webgpu package.',
    );
  }
  const dawn = await loadDawn();
  if (options.dawnFlags !== undefined) {
    const gpu = createDawn(dawn, options.dawnFlags);
    return [
      { gpu, flags: options.dawnFlags, featureLevel: 'core' },
      { gpu, flags: options.dawnFlags, featureLevel: 'compatibility' },
    ];
  }
  const tries: Attempt[] = [{ gpu: createDawn(dawn, []), flags: [], featureLevel: 'core' }];
  if (process.platform === 'linux') {
    // Mesa's EGL picks its platform from EGL_PLATFORM when the OpenGL backend first opens a
    // display; with no X or Wayland server only "surfaceless" works. It is read then, not at
    // import, so setting it here (when the user did not) is in time.
    process.env['EGL_PLATFORM'] ??= 'surfaceless';
    const flags = ['backend=opengl'];
    tries.push({ gpu: createDawn(dawn, flags), flags, featureLevel: 'compatibility' });
  }
  return tries;
}

function createDawn(dawn: typeof Webgpu, flags: readonly string[]): GPU {
  try {
    return dawn.create([...flags]);
  } catch (error) {
    throw unavailable(
      `a Dawn instance for flags ${JSON.stringify(flags)}`,
      error instanceof Error ? error.message : describeValue(error),
      nodeHint(),
      error,
    );
  }
}

function subgroupChoice(gpu: GPU, adapter: GPUAdapter, wanted: boolean): { enabled: boolean; reason: string } {
  if (!wanted) return { enabled: false, reason: 'off (option subgroups: false)' };
  if (!adapter.features.has('subgroups')) return { enabled: false, reason: 'off (the adapter has no subgroups feature)' };
  // Without @builtin(subgroup_id) a workgroup's subgroups cannot be numbered portably.
  if (!gpu.wgslLanguageFeatures.has('subgroup_id')) {
    return { enabled: false, reason: 'off (no subgroup_id WGSL language feature)' };
  }
  const { subgroupMinSize, subgroupMaxSize } = adapter.info;
  return { enabled: true, reason: `subgroupAdd (subgroup size ${subgroupMinSize}–${subgroupMaxSize})` };
}

/** The limits the kernels want raised to what the adapter allows (compatibility defaults are low). */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * Finds an adapter and opens a device: `navigator.gpu` where it exists, else Dawn. Rejects with a
 * typed `BACKEND_UNAVAILABLE` naming the fix when there is none.
 */
export async function acquireDevice(options: AcquireOptions): Promise<AcquiredDevice> {
  const tried: string[] = [];
  for (const attempt of await attempts(options)) {
    const label = `${attempt.flags === undefined ? 'navigator.gpu' : `Dawn ${JSON.stringify(attempt.flags)}`} ${attempt.featureLevel}`;
    let adapter: GPUAdapter | null;
    try {
      adapter = await keepAlive(
        attempt.gpu.requestAdapter({
        featureLevel: attempt.featureLevel,
          ...(options.powerPreference === undefined ? {} : { powerPreference: options.powerPreference }),
        }),
      );
    } catch (error) {
      tried.push(`${label}: ${error instanceof Error ? error.message : describeValue(error)}`);
      continue;
    }
    if (adapter === null) {
      tried.push(`${label}: no adapter`);
      continue;
    }
    if (adapter.limits.maxStorageBuffersPerShaderStage < MIN_STORAGE_BUFFERS) {
      tried.push(`${label}: maxStorageBuffersPerShaderStage ${adapter.limits.maxStorageBuffersPerShaderStage} < ${MIN_STORAGE_BUFFERS}`);
      continue;
    }
    const subgroups = subgroupChoice(attempt.gpu, adapter, options.subgroups);
    const requiredLimits: Record<string, number> = {};
    for (const key of RAISED_LIMITS) requiredLimits[key] = adapter.limits[key];
    const gpuTime =
      options.timestamps === false
        ? 'unavailable: option timestamps: false'
        : adapter.features.has('timestamp-query')
          ? 'timestamp-query'
          : 'unavailable: no timestamp-query';
    const requiredFeatures: GPUFeatureName[] = [
      ...(subgroups.enabled ? (['subgroups'] as const) : []),
      ...(gpuTime === 'timestamp-query' ? (['timestamp-query'] as const) : []),
    ];
    let device: GPUDevice;
    try {
      device = await keepAlive(adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'batchnorm webgpu' }));
    } catch (error) {
      tried.push(`${label}: requestDevice failed: ${error instanceof Error ? error.message : describeValue(error)}`);
      continue;
    }
    return {
      gpu: attempt.gpu,
      device,
      adapter,
      info: adapter.info,
      api: attempt.flags === undefined ? 'navigator.gpu' : 'dawn',
      ...(attempt.flags === undefined ? {} : { dawnFlags: attempt.flags }),
      featureLevel: attempt.featureLevel,
      subgroups,
      gpuTime,
    };
  }
  throw unavailable(
    'a WebGPU adapter',
    `none (${tried.join('; ')})`,
    isNode() ? nodeHint() : 'Enable WebGPU in the browser (headless Chromium: --enable-unsafe-webgpu; software: --use-webgpu-adapter=swiftshader).',
  );
}

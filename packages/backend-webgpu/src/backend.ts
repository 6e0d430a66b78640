import { BatchNormError, checkedOptions, describeValue } from '@batchnorm/core';
import { backendOn, detailsOf, SHADERS, shaderConfig } from './assemble.js';
import { KernelContext } from './context.js';
import { acquireDevice } from './device.js';
import type { WebGpuBackend, WebGpuBackendOptions } from './types.js';

// The factory alone: its declaration file names only the public types (the assembly's names
// WebGPU's own types, which a consumer without @webgpu/types cannot see).
const DEFAULT_POOL_BYTES = 256 * 2 ** 20;
const OPTION_KEYS: readonly (keyof WebGpuBackendOptions)[] = ['subgroups', 'timestamps', 'poolBytes', 'dawnFlags', 'powerPreference'];

function invalidOption(key: string, expected: string, value: unknown): BatchNormError {
  return new BatchNormError({ code: 'INVALID_ARGUMENT', argument: `options.${key}`, expected, received: describeValue(value) });
}

function readOptions(
  options: unknown,
): Required<Pick<WebGpuBackendOptions, 'subgroups' | 'poolBytes' | 'timestamps'>> & WebGpuBackendOptions {
  const record = checkedOptions(options, OPTION_KEYS, '{ subgroups: false }');
  const subgroups = record['subgroups'] ?? true;
  if (typeof subgroups !== 'boolean') throw invalidOption('subgroups', 'a boolean', subgroups);
  const timestamps = record['timestamps'] ?? true;
  if (typeof timestamps !== 'boolean') throw invalidOption('timestamps', 'a boolean', timestamps);
  const poolBytes = record['poolBytes'] ?? DEFAULT_POOL_BYTES;
  if (typeof poolBytes !== 'number' || !Number.isInteger(poolBytes) || poolBytes < 0) {
    throw invalidOption('poolBytes', 'an integer ≥ 0', poolBytes);
  }
  const dawnFlags = record['dawnFlags'];
  if (dawnFlags !== undefined && (!Array.isArray(dawnFlags) || !dawnFlags.every((f) => typeof f === 'string'))) {
    throw invalidOption('dawnFlags', "an array of strings such as ['backend=opengl']", dawnFlags);
  }
  const powerPreference = record['powerPreference'];
  if (powerPreference !== undefined && powerPreference !== 'low-power' && powerPreference !== 'high-performance') {
    throw invalidOption('powerPreference', '"low-power" or "high-performance"', powerPreference);
  }
  return {
    subgroups,
    timestamps,
    poolBytes,
    ...(dawnFlags === undefined ? {} : { dawnFlags }),
    ...(powerPreference === undefined ? {} : { powerPreference }),
  };
}

/**
 * Creates the webgpu backend: finds an adapter (`navigator.gpu` in a browser, Dawn in Node),
 * opens a device, compiles every kernel. Rejects with a typed `BACKEND_UNAVAILABLE` naming the fix
 * when there is no adapter.
 */
export async function createBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const { subgroups, timestamps, poolBytes, dawnFlags, powerPreference } = readOptions(options);
  const acquired = await acquireDevice({
    subgroups,
    timestamps,
    ...(dawnFlags === undefined ? {} : { dawnFlags }),
    ...(powerPreference === undefined ? {} : { powerPreference }),
  });
  const config = shaderConfig(acquired.device.limits, acquired.subgroups.enabled);
  const ctx = new KernelContext(acquired.gpu, acquired.device, config, poolBytes, acquired.gpuTime);
  try {
    await ctx.prepare(SHADERS);
  } catch (error) {
    ctx.destroy();
    throw error;
  }
  return backendOn(ctx, detailsOf(acquired, config, ctx));
}

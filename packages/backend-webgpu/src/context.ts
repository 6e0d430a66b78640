import { BatchNormError, KERNEL_NAMES, type KernelName, type Shape } from '@batchnorm/core';
import { GpuTimer, zeroCounters } from './counters.js';
import { DeviceHealth } from './health.js';
import { gridOf, packParams, type Dispatch, type Shader, type ShaderConfig } from './dispatch.js';
import { keepAlive } from './keepAlive.js';
import { Pipelines } from './pipelines.js';
import { BufferPool, MAP_MODE_READ, STAGING_USAGE, STORAGE_USAGE, UNIFORM_USAGE } from './pool.js';
import { GpuSaved, GpuTensor } from './tensor.js';
import type { GpuTimeUnavailable, KernelCounters, WebGpuStats } from './types.js';

/**
 * Everything the kernels share: the device and its limits, compiled pipelines, the buffer pool,
 * the counters, and the device's health. Each kernel call encodes its dispatches into one command
 * buffer and submits it at once, so the queue's order is the order of the calls; reads and
 * uploads go through the same queue.
 */
export class KernelContext {
  readonly device: GPUDevice;
  readonly config: ShaderConfig;
  readonly pool: BufferPool;
  /** The largest storage binding and buffer the device allows, in bytes. */
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly #pipelines: Pipelines;
  /** Held for the device's lifetime: with Dawn, a collected instance stalls or aborts the device's work. */
  readonly #instance: GPU;
  #counters = zeroCounters();
  #submits = 0;
  #uploads = { count: 0, bytes: 0 };
  #reads = { count: 0, bytes: 0, ms: 0 };
  /** `'timestamp-query'` when kernel calls are timed on the GPU, else why not. */
  readonly gpuTime: 'timestamp-query' | GpuTimeUnavailable;
  /** Times kernel calls when `gpuTime` is `'timestamp-query'`. */
  readonly #timer: GpuTimer | undefined;
  readonly #health: DeviceHealth;

  constructor(
    instance: GPU,
    device: GPUDevice,
    config: ShaderConfig,
    poolBytes: number,
    gpuTime: 'timestamp-query' | GpuTimeUnavailable = device.features.has('timestamp-query')
      ? 'timestamp-query'
      : 'unavailable: no timestamp-query',
  ) {
    this.#instance = instance;
    this.gpuTime = gpuTime;
    this.device = device;
    this.config = config;
    this.pool = new BufferPool(device, poolBytes);
    this.#pipelines = new Pipelines(device, config);
    this.#timer = gpuTime === 'timestamp-query' ? new GpuTimer(device, this.pool) : undefined;
    this.maxBindingBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxWorkgroupsPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
    this.#health = new DeviceHealth(device);
  }

  /** The WebGPU instance (`navigator.gpu`, or Dawn's). */
  get instance(): GPU {
    return this.#instance;
  }

  /** Throws a typed `BACKEND_UNAVAILABLE` naming the cause once the device is lost. */
  assertAlive(): void {
    if (this.#health.isLost) throw this.#health.lostError();
  }

  /** Throws a typed `NOT_SUPPORTED` when `bytes` exceeds what one binding may hold. */
  checkBytes(bytes: number, argument: string, shape: Shape): void {
    if (bytes > this.maxBindingBytes) {
      throw new BatchNormError({
        code: 'NOT_SUPPORTED',
        argument,
        expected: `a tensor of at most ${this.maxBindingBytes / 4} float32 values (the device's maxStorageBufferBindingSize of ${this.maxBindingBytes} bytes)`,
        received: `[${shape.join(', ')}] (${bytes / 4} values, ${bytes} bytes)`,
        hint: 'Split the batch, or use a device with larger limits.',
      });
    }
  }

  /** A new tensor over a pooled buffer (contents undefined until a kernel writes it). */
  tensor(shape: Shape, argument = 'output'): GpuTensor {
    let size = 1;
    for (const d of shape) size *= d;
    this.checkBytes(size * 4, argument, shape);
    return new GpuTensor(this, this.pool.take(size * 4, STORAGE_USAGE), shape, size);
  }

  /** A pooled storage buffer for a kernel's own use; give it back with `release` after `run`. */
  scratch(bytes: number): GPUBuffer {
    return this.pool.take(bytes, STORAGE_USAGE);
  }

  saved(channels: number): GpuSaved {
    return new GpuSaved(this, this.pool.take(channels * 16, STORAGE_USAGE), channels);
  }

  release(buffer: GPUBuffer | undefined): void {
    if (buffer !== undefined && !this.#health.isLost) this.pool.give(buffer);
  }

  dispose(t: GpuTensor): void {
    this.release(GpuTensor.detach(t));
  }

  disposeSaved(s: GpuSaved): void {
    this.release(GpuSaved.detach(s));
  }

  upload(data: Float32Array, shape: Shape): GpuTensor {
    this.assertAlive();
    const t = this.tensor(shape, 'data');
    this.device.queue.writeBuffer(t.buffer(), 0, data.buffer, data.byteOffset, data.byteLength);
    this.#uploads.count++;
    this.#uploads.bytes += data.byteLength;
    return t;
  }

  /**
   * Copies `t` into a staging buffer now (so later kernels and `dispose` cannot change what is
   * read), then maps it. The caller may dispose `t` as soon as this returns.
   */
  read(t: GpuTensor): Promise<Float32Array> {
    this.assertAlive();
    const started = performance.now();
    const reads = this.#reads;
    const bytes = t.bytes;
    const staging = this.pool.take(bytes, STAGING_USAGE);
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(t.buffer(), 0, staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    this.#submits++;
    this.#reads.count++;
    this.#reads.bytes += bytes;
    return keepAlive(staging.mapAsync(MAP_MODE_READ, 0, bytes)).then(
      () => {
        const values = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
        staging.unmap();
        this.release(staging);
        // into the counters of the call's time (a resetStats meanwhile starts new ones)
        reads.ms += performance.now() - started;
        return values;
      },
      (error: unknown) => {
        throw this.#health.isLost ? this.#health.lostError(error) : error;
      },
    );
  }

  /** Compiles `shaders` ahead of use (see `Pipelines.prepare`). */
  prepare(shaders: readonly Shader[]): Promise<void> {
    return this.#pipelines.prepare(shaders);
  }

  /**
   * Encodes the dispatches of one kernel call into one command buffer (after `copies`) and submits
   * it; then hands `scratch` back to the pool (later work on it is queued after this submission).
   */
  run(
    kernel: KernelName,
    dispatches: readonly Dispatch[],
    scratch: readonly GPUBuffer[] = [],
    copies: readonly { readonly from: GPUBuffer; readonly to: GPUBuffer; readonly bytes: number }[] = [],
  ): void {
    this.assertAlive();
    const encoder = this.device.createCommandEncoder({ label: kernel });
    for (const { from, to, bytes } of copies) encoder.copyBufferToBuffer(from, 0, to, 0, bytes);
    const uniforms: GPUBuffer[] = [];
    const counters = this.#counters[kernel];
    const querySet = this.#timer?.querySet();
    for (const [n, d] of dispatches.entries()) {
      const pipeline = this.#pipelines.get(d.shader);
      const entries: GPUBindGroupEntry[] = [];
      if (d.params !== undefined) {
        const packed = packParams(d.params);
        const uniform = this.pool.take(packed.byteLength, UNIFORM_USAGE);
        this.device.queue.writeBuffer(uniform, 0, packed);
        uniforms.push(uniform);
        entries.push({ binding: 0, resource: { buffer: uniform, size: packed.byteLength } });
      }
      const first = entries.length;
      d.buffers.forEach((b, i) => entries.push({ binding: first + i, resource: { buffer: b.buffer, size: b.bytes } }));
      const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      const [x, y] = gridOf(d.workgroups, this.maxWorkgroupsPerDimension);
      const pass = encoder.beginComputePass({
        label: d.shader.label,
        ...(querySet === undefined
          ? {}
          : {
              timestampWrites: {
                querySet,
                ...(n === 0 ? { beginningOfPassWriteIndex: 0 } : {}),
                ...(n === dispatches.length - 1 ? { endOfPassWriteIndex: 1 } : {}),
              },
            }),
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y);
      pass.end();
      counters.dispatches++;
      counters.bytesRead += d.bytesRead;
      counters.bytesWritten += d.bytesWritten;
    }
    const stamps = querySet === undefined ? undefined : this.#timer?.resolve(encoder, querySet);
    this.device.queue.submit([encoder.finish()]);
    this.#submits++;
    counters.calls++;
    for (const u of uniforms) this.release(u);
    for (const s of scratch) this.release(s);
    if (stamps !== undefined) this.#timer?.read(counters, stamps, (buffer) => this.release(buffer));
  }

  /**
   * Runs a kernel call and adds its CPU time (arguments checked, buffers taken, work encoded and
   * submitted) to the kernel's `submitMs`.
   */
  timed<T>(kernel: KernelName, call: () => T): T {
    const counters = this.#counters[kernel];
    const started = performance.now();
    try {
      return call();
    } finally {
      counters.submitMs += performance.now() - started;
    }
  }

  stats(): WebGpuStats {
    const kernels = {} as Record<KernelName, KernelCounters>;
    for (const name of KERNEL_NAMES) {
      const { gpuNs, ...rest } = this.#counters[name];
      kernels[name] = { ...rest, gpuMs: this.gpuTime === 'timestamp-query' ? gpuNs / 1e6 : this.gpuTime };
    }
    return {
      kernels,
      submits: this.#submits,
      uploads: { ...this.#uploads },
      reads: { ...this.#reads },
      gpuTime: this.gpuTime,
      pendingGpuTimes: this.#timer?.pendingCount ?? 0,
      buffersCreated: this.pool.created,
      pooledBytes: this.pool.pooledBytes,
      uncapturedErrors: this.#health.uncapturedErrors,
    };
  }

  resetStats(): void {
    this.#counters = zeroCounters();
    this.#submits = 0;
    this.#uploads = { count: 0, bytes: 0 };
    this.#reads = { count: 0, bytes: 0, ms: 0 };
    this.pool.created = 0;
  }

  /**
   * Resolves when every command submitted so far has finished on the GPU and the GPU times of
   * those kernel calls are counted.
   */
  async onSubmittedWorkDone(): Promise<void> {
    const times = this.#timer?.inFlight() ?? [];
    await keepAlive(this.device.queue.onSubmittedWorkDone());
    await Promise.all(times);
  }

  destroy(): void {
    this.#timer?.destroy();
    this.pool.clear();
    this.#pipelines.clear();
    this.#health.destroyed();
    this.device.destroy();
  }
}

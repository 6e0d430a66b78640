import { BatchNormError, KERNEL_NAMES, type KernelName, type Shape } from '@batchnorm/core';
import { keepAlive } from './keepAlive.js';
import { BufferPool, MAP_MODE_READ, RESOLVE_USAGE, STAGING_USAGE, STORAGE_USAGE, UNIFORM_USAGE } from './pool.js';
import { GpuSaved, GpuTensor } from './tensor.js';
import type { GpuTimeUnavailable, KernelCounters, WebGpuStats } from './types.js';

/** What a shader's source depends on besides its own code. */
export interface ShaderConfig {
  /** Invocations per workgroup of the 1-d kernels: 256, or less on a device that allows less. */
  readonly workgroupSize: number;
  /** Reduce with `subgroupAdd` (the device has the `subgroups` feature) or with a memory tree. */
  readonly subgroups: boolean;
  /** Side of matMul's square tiles (`tile²` invocations per workgroup). */
  readonly tile: number;
}

/** A WGSL compute shader, entry point `main`, generated for a configuration. */
export interface Shader {
  readonly label: string;
  readonly source: (config: ShaderConfig) => string;
}

/** A storage buffer bound to a dispatch: its first `bytes` bytes. */
export interface Binding {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

/** One compute dispatch of a kernel call. */
export interface Dispatch {
  readonly shader: Shader;
  /**
   * Kernel parameters, bound at `@binding(0)` as a uniform struct; the storage buffers follow at
   * bindings 1, 2, … (at 0, 1, … when there are no parameters).
   */
  readonly params?: Params;
  readonly buffers: readonly Binding[];
  /**
   * Workgroups to run: a count (laid out as `[x, y]` within the per-dimension limit; shaders
   * number them `x + y·num_workgroups.x`), or explicit `[x, y]` counts.
   */
  readonly workgroups: number | readonly [number, number];
  /** Traffic by design, for the counters (see `KernelCounters`). */
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** A uniform struct of 32-bit scalars, in declaration order. */
export type Params = readonly (readonly ['u32' | 'f32', number])[];

function packParams(params: Params): ArrayBuffer {
  // a uniform struct's size is a multiple of 16 bytes
  const bytes = Math.max(16, Math.ceil((params.length * 4) / 16) * 16);
  const view = new DataView(new ArrayBuffer(bytes));
  params.forEach(([type, value], i) => {
    if (type === 'u32') view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return view.buffer;
}

/** Counters as kept: GPU time in nanoseconds (summed exactly as integers up to 2⁵³ ns, 104 days). */
interface Counters extends Omit<KernelCounters, 'gpuMs'> {
  gpuNs: number;
}

function zeroCounters(): Record<KernelName, Counters> {
  const zero = (): Counters => ({ calls: 0, dispatches: 0, bytesRead: 0, bytesWritten: 0, submitMs: 0, gpuNs: 0 });
  return {
    batchNormForwardTraining: zero(),
    batchNormForwardInference: zero(),
    batchNormBackward: zero(),
    runningAverage: zero(),
    matMul: zero(),
    addBias: zero(),
    sumRows: zero(),
    sigmoid: zero(),
    sigmoidBackward: zero(),
    relu: zero(),
    reluBackward: zero(),
    softmaxCrossEntropy: zero(),
    sgdUpdate: zero(),
  };
}

/**
 * Everything the kernels share: the device and its limits, compiled pipelines, the buffer pool,
 * the counters, and the device's health. Each kernel call encodes its dispatches into one command
 * buffer and submits it at once, so the queue's order is the order of the calls; reads and
 * uploads go through the same queue.
 */
export class GpuContext {
  readonly device: GPUDevice;
  readonly config: ShaderConfig;
  readonly pool: BufferPool;
  /** The largest storage binding and buffer the device allows, in bytes. */
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly #pipelines = new Map<Shader, GPUComputePipeline>();
  /** Held for the device's lifetime: with Dawn, a collected instance stalls or aborts the device's work. */
  readonly #instance: GPU;
  #counters = zeroCounters();
  #submits = 0;
  #uploads = { count: 0, bytes: 0 };
  #reads = { count: 0, bytes: 0, ms: 0 };
  /** `'timestamp-query'` when kernel calls are timed on the GPU, else why not. */
  readonly gpuTime: 'timestamp-query' | GpuTimeUnavailable;
  /** Free two-entry timestamp query sets (the start of a call's first pass, the end of its last). */
  readonly #querySets: GPUQuerySet[] = [];
  /** Timestamp read-backs in flight, awaited by `onSubmittedWorkDone`. */
  readonly #pendingTimes = new Set<Promise<void>>();
  #uncapturedErrors = 0;
  #firstUncapturedError: string | undefined;
  #lost: { reason: string; message: string } | undefined;

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
    this.maxBindingBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxWorkgroupsPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
    void device.lost.then((info) => {
      this.#lost = { reason: String(info.reason), message: info.message };
    });
    device.onuncapturederror = (event) => {
      this.#uncapturedErrors++;
      this.#firstUncapturedError ??= event.error.message;
    };
  }

  /** The first error the device reported outside any call, for tests and logs. */
  get firstUncapturedError(): string | undefined {
    return this.#firstUncapturedError;
  }

  /** Throws a typed `BACKEND_UNAVAILABLE` naming the cause once the device is lost. */
  assertAlive(): void {
    if (this.#lost !== undefined) throw this.lostError();
  }

  lostError(cause?: unknown): BatchNormError {
    const lost = this.#lost;
    return new BatchNormError(
      {
        code: 'BACKEND_UNAVAILABLE',
        argument: 'device',
        expected: 'a WebGPU device that is not lost',
        received:
          lost === undefined
            ? 'a device that failed'
            : `the device lost (reason "${lost.reason}"${lost.message === '' ? '' : `: ${lost.message}`})`,
        hint:
          lost?.reason === 'destroyed'
            ? 'The backend was destroyed: create a new one.'
            : 'Create a new backend; its tensors are gone with the device.',
      },
      cause === undefined ? undefined : { cause },
    );
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
    if (buffer !== undefined && this.#lost === undefined) this.pool.give(buffer);
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
        throw this.#lost !== undefined ? this.lostError(error) : error;
      },
    );
  }

  pipeline(shader: Shader): GPUComputePipeline {
    let pipeline = this.#pipelines.get(shader);
    if (pipeline === undefined) {
      const module = this.device.createShaderModule({ label: shader.label, code: shader.source(this.config) });
      pipeline = this.device.createComputePipeline({ label: shader.label, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.#pipelines.set(shader, pipeline);
    }
    return pipeline;
  }

  /**
   * Compiles `shaders` ahead of use (in parallel where the implementation can); rejects with a
   * typed error quoting the compiler when one fails, so a broken driver shows at creation.
   */
  async prepare(shaders: readonly Shader[]): Promise<void> {
    await Promise.all(
      shaders.map(async (shader) => {
        if (this.#pipelines.has(shader)) return;
        const module = this.device.createShaderModule({ label: shader.label, code: shader.source(this.config) });
        try {
          const pipeline = await keepAlive(
            this.device.createComputePipelineAsync({ label: shader.label, layout: 'auto', compute: { module, entryPoint: 'main' } }),
          );
          this.#pipelines.set(shader, pipeline);
        } catch (error) {
          const info = await keepAlive(module.getCompilationInfo());
          const messages = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
          throw new BatchNormError(
            {
              code: 'BACKEND_UNAVAILABLE',
              argument: 'webgpu',
              expected: `the ${shader.label} shader to compile on this device`,
              received: messages === '' ? String(error) : messages,
            },
            { cause: error },
          );
        }
      }),
    );
  }

  /** `[x, y]` workgroup counts covering `count` workgroups within the per-dimension limit. */
  grid(count: number): [number, number] {
    const x = Math.min(count, this.maxWorkgroupsPerDimension);
    const y = Math.ceil(count / x);
    if (y > this.maxWorkgroupsPerDimension) {
      throw new BatchNormError({
        code: 'NOT_SUPPORTED',
        argument: 'shape',
        expected: `at most ${this.maxWorkgroupsPerDimension ** 2} workgroups in one dispatch`,
        received: `${count} workgroups`,
      });
    }
    return [x, y];
  }

  grid2([x, y]: readonly [number, number]): [number, number] {
    const max = this.maxWorkgroupsPerDimension;
    if (x > max || y > max) {
      throw new BatchNormError({
        code: 'NOT_SUPPORTED',
        argument: 'shape',
        expected: `at most ${max} workgroups along each dimension`,
        received: `[${x}, ${y}] workgroups`,
      });
    }
    return [x, y];
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
    const querySet = this.gpuTime === 'timestamp-query' ? (this.#querySets.pop() ?? this.#newQuerySet()) : undefined;
    for (const [n, d] of dispatches.entries()) {
      const pipeline = this.pipeline(d.shader);
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
      const [x, y] = typeof d.workgroups === 'number' ? this.grid(d.workgroups) : this.grid2(d.workgroups);
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
    let times: { resolve: GPUBuffer; staging: GPUBuffer } | undefined;
    if (querySet !== undefined) {
      times = { resolve: this.pool.take(16, RESOLVE_USAGE), staging: this.pool.take(16, STAGING_USAGE) };
      encoder.resolveQuerySet(querySet, 0, 2, times.resolve, 0);
      encoder.copyBufferToBuffer(times.resolve, 0, times.staging, 0, 16);
    }
    this.device.queue.submit([encoder.finish()]);
    this.#submits++;
    counters.calls++;
    for (const u of uniforms) this.release(u);
    for (const s of scratch) this.release(s);
    if (querySet !== undefined && times !== undefined) this.#readTimes(counters, querySet, times);
  }

  #newQuerySet(): GPUQuerySet {
    return this.device.createQuerySet({ type: 'timestamp', count: 2, label: 'kernel time' });
  }

  /** Adds a call's GPU time (end − start, in ns) to `counters` once its timestamps are mapped. */
  #readTimes(counters: Counters, querySet: GPUQuerySet, times: { resolve: GPUBuffer; staging: GPUBuffer }): void {
    this.release(times.resolve);
    // the query set may be written again by a later call: the queue resolves this one first
    this.#querySets.push(querySet);
    const pending: Promise<void> = keepAlive(times.staging.mapAsync(MAP_MODE_READ, 0, 16)).then(
      () => {
        const [start, end] = new BigUint64Array(times.staging.getMappedRange(0, 16).slice(0));
        times.staging.unmap();
        this.release(times.staging);
        // an implementation may report end < start (timestamps can be reset): count nothing then
        if (start !== undefined && end !== undefined && end >= start) counters.gpuNs += Number(end - start);
      },
      // a lost device loses its timings too; the kernels say so themselves
      () => undefined,
    );
    this.#pendingTimes.add(pending);
    void pending.finally(() => this.#pendingTimes.delete(pending));
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
      pendingGpuTimes: this.#pendingTimes.size,
      buffersCreated: this.pool.created,
      pooledBytes: this.pool.pooledBytes,
      uncapturedErrors: this.#uncapturedErrors,
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
    const times = [...this.#pendingTimes];
    await keepAlive(this.device.queue.onSubmittedWorkDone());
    await Promise.all(times);
  }

  /** The WebGPU instance (`navigator.gpu`, or Dawn's). */
  get instance(): GPU {
    return this.#instance;
  }

  destroy(): void {
    for (const querySet of this.#querySets.splice(0)) querySet.destroy();
    this.pool.clear();
    this.#pipelines.clear();
    this.#lost ??= { reason: 'destroyed', message: 'destroy() was called' };
    this.device.destroy();
  }
}

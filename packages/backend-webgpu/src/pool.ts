/** Buffer usages (numeric, as `GPUBufferUsage` is not a global in Node). */
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

export const MAP_MODE_READ = 0x0001;

/** What tensors, scratch partials and saved statistics live in. */
export const STORAGE_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;
/** Read-back staging buffers. */
export const STAGING_USAGE = Usage.MAP_READ | Usage.COPY_DST;
/** Where timestamp queries are resolved, to be copied into a staging buffer. */
export const RESOLVE_USAGE = Usage.QUERY_RESOLVE | Usage.COPY_SRC;
/** Kernel parameters. */
export const UNIFORM_USAGE = Usage.UNIFORM | Usage.COPY_DST;

/**
 * Buffer sizes come in classes a quarter of a power of two apart (at most 19% unused), from 256
 * bytes, so a released buffer serves the next request of about its size.
 */
export function sizeClass(bytes: number): number {
  const minimum = 256;
  if (bytes <= minimum) return minimum;
  const power = 2 ** Math.floor(Math.log2(bytes));
  const quarter = power / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

/**
 * Released GPU buffers kept for reuse, by usage and size class. Reuse needs no fence: WebGPU's
 * queue runs work in submission order, so whatever is written into a reused buffer (a later
 * `writeBuffer` or dispatch) lands after every earlier use of it has finished.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #capacity: number;
  readonly #free = new Map<string, GPUBuffer[]>();
  #pooledBytes = 0;
  created = 0;

  constructor(device: GPUDevice, capacityBytes: number) {
    this.#device = device;
    this.#capacity = capacityBytes;
  }

  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** A buffer of at least `bytes` bytes with exactly `usage`. */
  take(bytes: number, usage: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.#free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.#pooledBytes -= reused.size;
      return reused;
    }
    this.created++;
    return this.#device.createBuffer({ size, usage });
  }

  /** Hands a buffer back; destroys it when the pool is full. */
  give(buffer: GPUBuffer): void {
    if (this.#pooledBytes + buffer.size > this.#capacity) {
      buffer.destroy();
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.#free.get(key);
    if (list === undefined) this.#free.set(key, (list = []));
    list.push(buffer);
    this.#pooledBytes += buffer.size;
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.#free.values()) for (const buffer of list) buffer.destroy();
    this.#free.clear();
    this.#pooledBytes = 0;
  }
}

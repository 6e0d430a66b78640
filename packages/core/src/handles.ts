import { KERNEL_NAMES, type Backend, type KernelName, type TensorHandle } from './backend.js';
import { BatchNormError, describeValue, invalidHandle } from './errors.js';
import type { Shape, TensorData } from './types.js';
import { invalid } from './validate.js';
import { Brand } from './brand.js';

/** The methods of a backend whose arguments or results are its tensors or its `saved`. */
export type GuardedMethodName = ReadMethodName | 'upload' | 'dispose' | 'disposeSaved' | KernelName;
type ReadMethodName = 'read' | 'readSync' | 'readInto' | 'readFloat64' | 'readFloat64Sync';

/** Those methods, each optional: what `HandleRegistry.guard` wraps. */
export type GuardableMethods<T extends TensorHandle, S> = Partial<Pick<Backend<T, S>, GuardedMethodName>>;

/** Throws unless `backend.isTensor(value)`: the check the `BatchNorm` layer makes on what it is handed. */
export function assertTensor<T extends TensorHandle>(
  backend: Pick<Backend<T>, 'name' | 'isTensor'>,
  value: unknown,
  argument: string,
): asserts value is T {
  if (!backend.isTensor(value)) throw invalidHandle(backend.name, value, argument);
}

/**
 * The tensors and `saved` values one backend instance has made and not yet released: the brand
 * behind its `isTensor`, and an O(1) check at the boundary of each of its methods (one private
 * field read per argument; nothing reads the data). Every backend of this repository builds its
 * methods through `guard`, so a tensor of another backend or backend instance, a look-alike
 * object, or a disposed tensor gives the same `INVALID_HANDLE` error naming the argument on all of
 * them, before any kernel runs.
 *
 * Handles are frozen when registered (the handle and its `shape` array): a shape cannot change
 * under a kernel (assigning throws a `TypeError` in strict code, and does nothing in sloppy code).
 * A backend keeps what must change about a handle (its buffer once disposed) in private fields or
 * off the handle.
 */
export class HandleRegistry<T extends TensorHandle, S = unknown> {
  readonly backendName: string;
  // owner tokens: live and released tensors, live and released saved values of this instance
  readonly #live = {};
  readonly #released = {};
  readonly #savedLive = {};
  readonly #savedReleased = {};
  /** Owners of objects that could not be stamped (handed over already frozen). */
  readonly #unstamped = new WeakMap<object, object>();
  readonly #alive: ((t: T) => boolean) | undefined;

  /**
   * @param backendName names the backend in errors.
   * @param options.alive an extra O(1) liveness test, for an engine that can release a tensor
   * behind the backend's back (TensorFlow's `tidy`).
   */
  constructor(backendName: string, options: { alive?: (t: T) => boolean } = {}) {
    this.backendName = backendName;
    this.#alive = options.alive;
  }

  #ownerOf(value: unknown): object | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    return Brand.ownerOf(value) ?? this.#unstamped.get(value);
  }

  #mark(value: object, owner: object): void {
    if (!Brand.mark(value, owner)) this.#unstamped.set(value, owner);
  }

  /** Whether `value` is a live tensor of this backend instance: its `isTensor`. */
  isTensor(value: unknown): value is T {
    if (this.#ownerOf(value) !== this.#live) return false;
    return this.#alive === undefined || this.#alive(value as T);
  }

  /** `value` as a live tensor, or the typed error naming `argument`. */
  check(value: unknown, argument: string): T {
    if (this.isTensor(value)) return value;
    const owner = this.#ownerOf(value);
    throw invalidHandle(this.backendName, value, argument, owner === this.#live || owner === this.#released ? 'disposed' : 'foreign');
  }

  /** Registers a tensor this backend just made, frozen with its shape; returns it. */
  add<H extends T>(t: H): H {
    // stamped before it is frozen: a private field cannot be added to a frozen object everywhere
    this.#mark(t, this.#live);
    Object.freeze(t.shape);
    Object.freeze(t);
    return t;
  }

  /**
   * Marks a tensor released. Returns `true` if it was live (the backend then frees it), `false` if
   * it was released before (disposing twice is allowed).
   * @throws BatchNormError `INVALID_HANDLE` for a tensor this backend instance never made.
   */
  release(t: unknown, argument = 't'): boolean {
    const owner = this.#ownerOf(t);
    if (owner !== this.#live && owner !== this.#released) throw invalidHandle(this.backendName, t, argument, 'foreign');
    this.#mark(t as object, this.#released);
    return owner === this.#live;
  }

  /** Registers a training forward's `saved` (an object; anything else cannot be branded). */
  addSaved(saved: S): S {
    if (typeof saved === 'object' && saved !== null) this.#mark(saved, this.#savedLive);
    return saved;
  }

  /** `saved` as one of this instance's live saved values, or `INVALID_HANDLE` naming `saved`. */
  checkSaved(saved: S): S {
    if (typeof saved !== 'object' || saved === null) return saved;
    const owner = this.#ownerOf(saved);
    if (owner === this.#savedLive) return saved;
    throw new BatchNormError({
      code: 'INVALID_HANDLE',
      argument: 'saved',
      expected: `the saved value of a batchNormForwardTraining of this "${this.backendName}" backend instance, not released by disposeSaved`,
      received: owner === this.#savedReleased ? 'a saved value released by disposeSaved' : `${describeValue(saved)}, not made by this backend instance`,
    });
  }

  /** Marks `saved` released: `true` if it was live, `false` if released before; throws for a foreign one. */
  releaseSaved(saved: S): boolean {
    if (typeof saved !== 'object' || saved === null) return true;
    const owner = this.#ownerOf(saved);
    if (owner === this.#savedReleased) return false;
    this.checkSaved(saved);
    this.#mark(saved, this.#savedReleased);
    return true;
  }

  /**
   * `methods` with each tensor argument checked (`check`, naming the argument as the contract
   * does), each returned tensor registered (`add`), `saved` branded, and `dispose`/`disposeSaved`
   * marking releases (a second release is a no-op; a foreign one throws); plus `isTensor`. Returns
   * a new object: members it does not know (`name`, getters, extra methods) are copied as they are,
   * so pass the whole backend. The originals stay bound to `methods`.
   *
   * `sgdUpdate` consumes `param`: when it returns another tensor, `param` is released.
   */
  guard<M extends GuardableMethods<T, S>>(methods: M): M & { isTensor(value: unknown): value is T } {
    // reads the originals once: the wrappers below must not call themselves
    const m: GuardableMethods<T, S> = { ...pick(methods) };
    const w: GuardableMethods<T, S> = {};
    const t = (value: T, argument: string): T => this.check(value, argument);
    const inputsOf = <I extends object>(inputs: I): I => {
      if (typeof inputs !== 'object' || inputs === null) throw invalid('inputs', 'an object of tensors', inputs);
      return inputs;
    };
    const { upload, read, readSync, readInto, readFloat64, readFloat64Sync, dispose, disposeSaved } = m;
    if (upload) w.upload = (data: TensorData, shape: Shape) => this.add(upload(data, shape));
    if (read) w.read = rejecting((value: T) => read(t(value, 't')));
    if (readSync) w.readSync = (value) => readSync(t(value, 't'));
    if (readInto) w.readInto = (value, out) => readInto(t(value, 't'), out);
    if (readFloat64) w.readFloat64 = rejecting((value: T) => readFloat64(t(value, 't')));
    if (readFloat64Sync) w.readFloat64Sync = (value) => readFloat64Sync(t(value, 't'));
    if (dispose) {
      w.dispose = (value) => {
        if (this.release(value)) dispose(value);
      };
    }
    if (disposeSaved) {
      w.disposeSaved = (saved) => {
        if (this.releaseSaved(saved)) disposeSaved(saved);
      };
    }
    const k = m;
    if (k.batchNormForwardTraining) {
      const f = k.batchNormForwardTraining;
      w.batchNormForwardTraining = (inputs, attrs) => {
        const { x, gamma, beta } = inputsOf(inputs);
        t(x, 'x');
        t(gamma, 'gamma');
        t(beta, 'beta');
        const out = f(inputs, attrs);
        this.add(out.y);
        this.add(out.mean);
        this.add(out.variance);
        this.addSaved(out.saved);
        return out;
      };
    }
    if (k.batchNormForwardInference) {
      const f = k.batchNormForwardInference;
      w.batchNormForwardInference = (inputs, attrs) => {
        const { x, gamma, beta, mean, variance } = inputsOf(inputs);
        t(x, 'x');
        t(gamma, 'gamma');
        t(beta, 'beta');
        t(mean, 'mean');
        t(variance, 'variance');
        return this.add(f(inputs, attrs));
      };
    }
    if (k.batchNormBackward) {
      const f = k.batchNormBackward;
      w.batchNormBackward = (inputs, attrs) => {
        const { dy, x, gamma, saved } = inputsOf(inputs);
        t(dy, 'dy');
        t(x, 'x');
        t(gamma, 'gamma');
        this.checkSaved(saved);
        const out = f(inputs, attrs);
        this.add(out.dx);
        this.add(out.dgamma);
        this.add(out.dbeta);
        return out;
      };
    }
    if (k.runningAverage) {
      const f = k.runningAverage;
      w.runningAverage = (inputs, attrs) => {
        const { running, batch } = inputsOf(inputs);
        t(running, 'running');
        t(batch, 'batch');
        return this.add(f(inputs, attrs));
      };
    }
    if (k.matMul) {
      const f = k.matMul;
      w.matMul = (a, b, attrs) => this.add(f(t(a, 'a'), t(b, 'b'), attrs));
    }
    if (k.addBias) {
      const f = k.addBias;
      w.addBias = (x, bias) => this.add(f(t(x, 'x'), t(bias, 'bias')));
    }
    if (k.sumRows) {
      const f = k.sumRows;
      w.sumRows = (x) => this.add(f(t(x, 'x')));
    }
    if (k.sigmoid) {
      const f = k.sigmoid;
      w.sigmoid = (x) => this.add(f(t(x, 'x')));
    }
    if (k.sigmoidBackward) {
      const f = k.sigmoidBackward;
      w.sigmoidBackward = (dy, y) => this.add(f(t(dy, 'dy'), t(y, 'y')));
    }
    if (k.relu) {
      const f = k.relu;
      w.relu = (x) => this.add(f(t(x, 'x')));
    }
    if (k.reluBackward) {
      const f = k.reluBackward;
      w.reluBackward = (dy, x) => this.add(f(t(dy, 'dy'), t(x, 'x')));
    }
    if (k.softmaxCrossEntropy) {
      const f = k.softmaxCrossEntropy;
      w.softmaxCrossEntropy = (logits, labels) => {
        const out = f(t(logits, 'logits'), t(labels, 'labels'));
        this.add(out.loss);
        this.add(out.dLogits);
        return out;
      };
    }
    if (k.sgdUpdate) {
      const f = k.sgdUpdate;
      w.sgdUpdate = (param, grad, attrs) => {
        const updated = this.add(f(t(param, 'param'), t(grad, 'grad'), attrs));
        if (updated !== param) this.#mark(param, this.#released);
        return updated;
      };
    }
    const isTensor = (value: unknown): value is T => this.isTensor(value);
    // a copy with every property descriptor, so a backend's getters keep working on it
    const copy = Object.create(Object.getPrototypeOf(methods), Object.getOwnPropertyDescriptors(methods)) as M;
    return Object.assign(copy, w, { isTensor });
  }
}

const READS: readonly ReadMethodName[] = ['read', 'readSync', 'readInto', 'readFloat64', 'readFloat64Sync'];
const GUARDED: readonly GuardedMethodName[] = ['upload', ...READS, 'dispose', 'disposeSaved', ...KERNEL_NAMES];

/** `read` as an asynchronous read: a refused handle rejects the promise instead of throwing. */
function rejecting<A, R>(read: (value: A) => Promise<R>): (value: A) => Promise<R> {
  return (value) => {
    try {
      return read(value);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/** The guardable methods of `methods`, bound to it (a backend's methods may use `this`). */
function pick<T extends TensorHandle, S>(methods: GuardableMethods<T, S>): GuardableMethods<T, S> {
  const out: Record<string, unknown> = {};
  const source = methods as Record<string, unknown>;
  for (const name of GUARDED) {
    const f = source[name];
    if (typeof f === 'function') out[name] = f.bind(methods);
  }
  return out as GuardableMethods<T, S>;
}

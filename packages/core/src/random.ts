/** A small seeded generator for reproducible tests, vectors and examples (not cryptographic). */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
}

/**
 * mulberry32: a 32-bit state generator, fast and well-distributed enough for test data.
 * The same seed gives the same sequence on every engine. The state is public so a caller can
 * store it and resume the same sequence.
 */
export class Mulberry32 {
  /** The whole state: one unsigned 32-bit integer. */
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1); advances `state`. */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** {@link Mulberry32} uniforms, and normals from them. */
export function createRandom(seed: number): SeededRandom {
  const source = new Mulberry32(seed);
  const uniform = (): number => source.uniform();
  // Box–Muller yields two normals per pair of uniforms; keep the second for the next call.
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u1 = 1 - uniform(); // in (0, 1]: log(u1) is finite
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
  return { uniform, normal };
}

import type { ExpectedArray, KernelOutputName } from './expected.js';

/** numpy's `allclose`: `|got − want| ≤ atol + rtol·|want|`, element by element. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/**
 * float32 kernels against float64 expectations. Sums over a feature's m values (dγ, dβ) have
 * magnitude about √m, so their absolute tolerance scales with √m.
 */
export function toleranceFor(output: KernelOutputName, m: number): Tolerance {
  const base = { atol: 1e-3, rtol: 1e-3 };
  return output === 'dgamma' || output === 'dbeta' ? { ...base, atol: base.atol * Math.sqrt(m) } : base;
}

/** Returns why `got` does not match `want`, or undefined when it does. */
export function mismatch(
  name: string,
  got: ArrayLike<number> | undefined,
  want: ExpectedArray,
  tolerance: Tolerance,
): string | undefined {
  if (got === undefined) return `${name}: missing output`;
  if (got.length !== want.length) return `${name}: length ${got.length}, expected ${want.length}`;
  const count = want.values.length;
  let failures = 0;
  let first: string | undefined;
  for (let j = 0; j < count; j++) {
    const i = want.indices === undefined ? j : want.indices[j]!;
    const expected = want.values[j]!;
    const value = got[i]!;
    if (!(Math.abs(value - expected) <= tolerance.atol + tolerance.rtol * Math.abs(expected))) {
      failures++;
      first ??= `${name}[${i}] = ${value}, expected ${expected}`;
    }
  }
  return first === undefined
    ? undefined
    : `${first} (${failures} of ${count} checked values outside atol ${tolerance.atol.toPrecision(3)} + rtol ${tolerance.rtol})`;
}

/** Checks every expected output; returns the first mismatch per output, joined, or undefined. */
export function checkOutputs(
  got: Partial<Record<KernelOutputName, ArrayLike<number>>>,
  expected: Partial<Record<KernelOutputName, ExpectedArray>>,
  m: number,
): string | undefined {
  const problems: string[] = [];
  for (const [name, want] of Object.entries(expected) as [KernelOutputName, ExpectedArray][]) {
    const problem = mismatch(name, got[name], want, toleranceFor(name, m));
    if (problem !== undefined) problems.push(problem);
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}

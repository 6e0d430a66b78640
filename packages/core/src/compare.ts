/** numpy's `allclose`: a value passes when `|got − want| ≤ atol + rtol·|want|`. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

export interface Comparison {
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly mismatches: number;
  /** Worst `|got − want| / (atol + rtol·|want|)`: below 1 passes; how much headroom is left. */
  readonly toleranceRatio: number;
  /** The first value outside tolerance, described for a person. */
  readonly firstMismatch?: string;
}

/**
 * numpy's `allclose`, element by element (the one comparison of `@batchnorm/conformance` and of
 * `@batchnorm/interop`'s ONNX runner): `|got − want| ≤ atol + rtol·|want|`. Non-finite values
 * are handled explicitly: an expected NaN passes only on NaN, an expected ±Infinity only on the
 * same infinity, and a NaN or infinity where a finite value was expected always fails.
 */
export function compareClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tolerance: Tolerance,
  label = 'value',
): Comparison {
  if (got.length !== want.length) {
    return {
      maxAbsError: Infinity,
      maxRelError: Infinity,
      toleranceRatio: Infinity,
      mismatches: Math.max(got.length, want.length),
      firstMismatch: `${label} has ${got.length} values, expected ${want.length}`,
    };
  }
  const { atol, rtol } = tolerance;
  let maxAbsError = 0;
  let maxRelError = 0;
  let mismatches = 0;
  let toleranceRatio = 0;
  let firstMismatch: string | undefined;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    let pass: boolean;
    let error: number;
    if (Number.isNaN(w)) {
      pass = Number.isNaN(g);
      error = pass ? 0 : Infinity;
    } else if (!Number.isFinite(w)) {
      pass = g === w;
      error = pass ? 0 : Infinity;
    } else if (!Number.isFinite(g)) {
      pass = false;
      error = Infinity;
    } else {
      error = Math.abs(g - w);
      const allowed = atol + rtol * Math.abs(w);
      pass = error <= allowed;
      toleranceRatio = Math.max(toleranceRatio, error === 0 ? 0 : error / allowed);
      if (w !== 0) maxRelError = Math.max(maxRelError, error / Math.abs(w));
    }
    if (error === Infinity) {
      maxRelError = Infinity;
      toleranceRatio = Infinity;
    }
    maxAbsError = Math.max(maxAbsError, error);
    if (!pass) {
      mismatches++;
      firstMismatch ??=
        `${label}[${i}]: got ${g}, expected ${w} ` +
        `(|error| ${formatNumber(error)} > atol ${formatNumber(atol)} + rtol ${formatNumber(rtol)}·|expected|)`;
    }
  }
  return firstMismatch === undefined
    ? { maxAbsError, maxRelError, mismatches, toleranceRatio }
    : { maxAbsError, maxRelError, mismatches, toleranceRatio, firstMismatch };
}

/** A number for a message: three significant digits, exponent form outside [1e-3, 1e4). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e4 ? value.toPrecision(3) : value.toExponential(2);
}

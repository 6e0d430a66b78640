/** What the conformance page publishes on `window.batchnormReport`. */
export interface CaseRow {
  readonly name: string;
  readonly passed: boolean;
  readonly skipped: boolean;
  readonly ms: number;
  readonly detail: string;
}

export interface ConformanceReport {
  readonly backend: string;
  readonly crossOriginIsolated: boolean;
  /** The backend's `details`, as JSON. */
  readonly details: Record<string, unknown>;
  readonly gridCases: number;
  readonly vectorCases: number;
  readonly cases: readonly CaseRow[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** js only: a 2¹⁸-element forward after the suite; row chunks its helper threads ran. */
  readonly helperChunks?: number;
  readonly error?: string;
}

/** What the bundled BN-step app publishes. */
export interface StepReport {
  readonly crossOriginIsolated: boolean;
  readonly details: Record<string, unknown>;
  readonly shape: readonly number[];
  /** Worst |got − want| / max(1, |want|) per output, against core's float64 reference. */
  readonly errors: Record<string, number>;
  readonly helperChunks: number;
  readonly ms: number;
  readonly error?: string;
}

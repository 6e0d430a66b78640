/** What the page publishes on `window.batchnormReport` for the browser test. */
export interface BrowserCaseResult {
  readonly name: string;
  readonly passed: boolean;
  readonly ms: number;
  readonly detail: string;
}

export interface BrowserReport {
  readonly backend: string;
  /** The gpu.js mode that ran: `webgl2` or `webgl` when the GPU path ran. */
  readonly mode: string;
  readonly suite: string;
  readonly cases: readonly BrowserCaseResult[];
  readonly passed: number;
  readonly failed: number;
  readonly error?: string;
}

/**
 * What this backend's training forward keeps for its backward (the contract's opaque `saved`):
 * each feature's batch mean and `1/√(σ²_B + ε)`, in float64. It shares no memory with the
 * forward's `y`, `mean` and `variance`, so the caller may dispose those first; backward reads it
 * and leaves it valid; `disposeSaved` releases it (here: nothing to free).
 */
export interface TemplateSaved {
  readonly mean: Float64Array;
  readonly invStd: Float64Array;
}

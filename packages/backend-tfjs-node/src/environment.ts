/**
 * TensorFlow reads these when its library loads, so they are set before tfjs-node is required
 * (an ES module's static imports would run first: tfjs-node is loaded lazily, see loader.ts).
 * - `TF_ENABLE_ONEDNN_OPTS=0`: TensorFlow 2.21's oneDNN kernels gave wrong convolution gradients
 *   here; the plain Eigen kernels are exact and as fast for batch norm.
 * - `TF_CPU_ALLOCATOR_USE_BFC=true`: TensorFlow pools its CPU memory instead of asking the OS
 *   for fresh pages per tensor, which are slow to touch (timings in the README's "TensorFlow's
 *   environment").
 * - `TF_CPP_MIN_LOG_LEVEL=1`: hides TensorFlow's start-up INFO lines (warnings still show).
 * A value the user set wins.
 */
export function setTensorFlowEnvironmentDefaults(): void {
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
  process.env.TF_CPU_ALLOCATOR_USE_BFC ??= 'true';
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
}

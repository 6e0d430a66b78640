export { bytesMoved, gigabytesPerSecond, KERNEL_OPS, type KernelOp, type MeasuredOp } from './byteModel.js';
export { measure, ratioToCopy, type MeasurePlan, type Measurement } from './measure.js';
export { runBench, hasFailures } from './bench.js';
export { parseArgs, type CliOptions } from './args.js';
export { judgeTargets, type TargetVerdict } from './targets.js';
export type { BenchDocument, MachineInfo } from './document.js';
export type { BenchResult, SkippedEntry } from './results.js';

// The control of src/consumer.test.ts: internal modules of two packages, which name tfjs-node's
// and gpu.js's own types (a user cannot import them: the packages' exports do not list them).
export type { LoadedTensorFlow } from '../../../packages/backend-tfjs-node/dist/loader.js';
export type { KernelContext } from '../../../packages/backend-gpujs/dist/context.js';

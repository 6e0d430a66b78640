// Moved to @batchnorm/core/node, the one atomic write of the repository; re-exported for the
// vector generator, which imports it from here.
export { outputPathProblem, writeFileAtomic } from '@batchnorm/core/node';

import { describeConformance } from '@batchnorm/conformance/vitest';
import { backendModule, createBackend } from './index.js';

// The whole suite (case grid in every layout, shipped vectors, running statistics, gradients,
// errors), judged with the tolerance profile the manifest names.
describeConformance(backendModule.name, () => createBackend(), { profile: backendModule.traits.tolerance });

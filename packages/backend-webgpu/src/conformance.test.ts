import { describeConformance } from '@batchnorm/conformance/vitest';
import { backendModule, createBackend } from './index.js';

// The whole suite on the default adapter (in Node: Dawn, OpenGL on Mesa's llvmpipe here) …
describeConformance('webgpu', () => createBackend(), { profile: backendModule.traits.tolerance });
// … and with subgroups refused, so the workgroup-memory tree runs even where the adapter has them.
describeConformance('webgpu (subgroups: false)', () => createBackend({ subgroups: false }), {
  profile: backendModule.traits.tolerance,
});

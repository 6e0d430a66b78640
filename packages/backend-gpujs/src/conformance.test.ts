import { describeConformance } from '@batchnorm/conformance/vitest';
import { backendFor, TESTED_MODES } from './__tests__/helpers.js';
import { backendModule } from './index.js';

// headlessgl runs the GPU path for real (the test command runs under `xvfb-run -a`); without a
// display or a built `gl` binding, creating the backend throws and every case fails saying so.
for (const mode of TESTED_MODES) {
  describeConformance(`gpujs (${mode})`, () => backendFor(mode), { profile: backendModule.traits.tolerance });
}

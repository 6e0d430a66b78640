import { describeConformance } from '@batchnorm/conformance/vitest';
import { backendModule, createBackend } from './index.js';

describeConformance('tfjs-node', () => createBackend(), { profile: backendModule.traits.tolerance });

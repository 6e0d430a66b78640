import { describeConformance } from '@batchnorm/conformance/vitest';
import { createBackend } from './backend.js';

describeConformance('tfjs-node', () => createBackend());

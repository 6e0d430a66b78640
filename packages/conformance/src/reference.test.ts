import { createReferenceBackend } from '@batchnorm/core';
import { describeConformance } from './vitest.js';

// The reference judged by its own suite: every case, vector and check must pass.
describeConformance('reference', () => createReferenceBackend(), { grid: 'quick' });

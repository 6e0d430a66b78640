import { asyncOnly, createReferenceBackend, referenceBackendModule } from '@batchnorm/core';
import { describeConformance } from './vitest.js';

// The reference judged by its own suite: every case, vector and check must pass, with the
// profile its manifest names …
describeConformance('reference', () => createReferenceBackend(), { grid: 'quick', profile: referenceBackendModule.traits.tolerance });
// … and behind asynchronous reads only, through the vitest entry a backend package uses.
describeConformance('reference (async-only)', () => asyncOnly(createReferenceBackend()), { profile: 'float64' });

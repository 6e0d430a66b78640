import { createReferenceBackend, referenceBackendModule } from '@batchnorm/core';
import { runConformancePage } from './page.js';

window.addEventListener('load', () =>
  setTimeout(() => void runConformancePage({ name: 'reference', profile: referenceBackendModule.traits.tolerance, create: () => createReferenceBackend() }), 0),
);

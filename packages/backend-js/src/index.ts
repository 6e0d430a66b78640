export { backendName, createBackend, type JsBackend, type JsBackendOptions } from './backend.js';
export { JsTensor } from './tensor.js';

import type { BackendModule } from '@batchnorm/core';
import { backendName, createBackend } from './backend.js';

/** The shape the registry loads (`loadBackend('js', …)`). */
export const backendModule = { backendName, createBackend } satisfies BackendModule;

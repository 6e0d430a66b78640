export { backendModule, createBackend, type JsBackend, type JsBackendDetails, type JsBackendOptions } from './backend.js';
export { JsSaved } from './saved.js';
export { JsTensor } from './tensor.js';

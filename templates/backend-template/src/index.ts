export { backendModule, createBackend, type TemplateBackend } from './backend.js';
export type { TemplateSaved } from './saved.js';
export type { TemplateTensor } from './tensor.js';

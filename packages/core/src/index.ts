export * from './types.js';
export * from './errors.js';
export * from './backend.js';
export * from './layout.js';
export * from './validate.js';
export * from './registry.js';
export * from './BatchNorm.js';
export * from './reference/index.js';

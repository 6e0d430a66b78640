export * from './idx.js';
export * from './data.js';
export * from './model.js';
export * from './trainer.js';
export * from './figure.js';
export * from './report.js';
export { main } from './main.js';
export { parseCommand, UsageError, DEFAULTS, HELP } from './options.js';

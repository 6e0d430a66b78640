export * from './types.js';
// The comparison lives in core (interop's ONNX runner uses it too); re-exported as this package's API.
export { compareClose, formatNumber, type Comparison } from '@batchnorm/core';
export * from './tolerances.js';
export * from './grid.js';
export * from './runner.js';
export * from './runningStats.js';
export * from './gradientCheck.js';
export * from './errorCheck.js';
export * from './vectorFile.js';
export * from './suite.js';

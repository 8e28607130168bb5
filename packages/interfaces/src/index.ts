export * from './ids.js';
export * from './errors.js';
export * from './execution.js';
export * from './ebbs/index.js';
export * from './manifest.js';
export * from './config.js';
export * from './validation.js';
export * from './iobuf/index.js';

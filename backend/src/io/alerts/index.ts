export * from './alertmanager.js';
export * from './queue.js';
export * from './types.js';
export * from './webhook.js';

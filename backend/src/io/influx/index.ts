export * from './influxql.js';
export * from './line-protocol.js';
export * from './presets.js';
export * from './reader.js';
export * from './v1-client.js';
export * from './writer.js';
export * from './flux.js';
export * from './v2-client.js';

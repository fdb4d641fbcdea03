/**
 * The engine's public API: pure computation, arrays in and numbers out. No I/O, no clock;
 * randomness only from seeded generators. The service, the CLI and the benchmarks use this.
 */
export { EngineError, type EngineErrorCode } from './errors.js';
export { checkedMatrix, matrixFromRows, rowOf, type Matrix } from './matrix.js';
export { quantileSorted } from './stats.js';
export * from './forest/index.js';
export * from './explain/index.js';
export * from './evaluate/index.js';
export * from './features/index.js';
export * from './drift/index.js';
export * from './stream/index.js';
export * from './validate/index.js';
export * from './pipeline/index.js';

export { IsolationForest, type ForestOptions, type ForestParams, type OutOfRange } from './forest.js';
export { FORMAT_VERSION, crc32 } from './format.js';
export { averagePathLength } from './path-length.js';
export { Random } from './random.js';
export type { TreeArrays } from './tree-arrays.js';

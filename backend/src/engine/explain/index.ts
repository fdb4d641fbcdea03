export {
  explain,
  explainRows,
  explainCacheBytes,
  topFeatures,
  EXPLAIN_CACHE_BYTES,
  type Explanation,
  type FeatureContribution,
} from './explain.js';
export { expectedTreeValue, ShapTables } from './treeshap.js';

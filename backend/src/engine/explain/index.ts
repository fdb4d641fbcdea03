export {
  explain,
  explainRows,
  setExplainCacheBytes,
  explainCacheBytes,
  topFeatures,
  EXPLAIN_CACHE_BYTES,
  type Explanation,
  type FeatureContribution,
} from './explain.js';
export { expectedTreeValue, ShapPaths } from './treeshap.js';

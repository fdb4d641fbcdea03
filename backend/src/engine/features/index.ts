export { featureList, featureNames, normalizeSpec, warmupRows, type FeatureSpec } from './spec.js';
export { FeatureTransformer, transformBatch, type FeatureBatch, type FeatureState } from './transform.js';

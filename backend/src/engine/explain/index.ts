export { explain, topFeatures, type Explanation, type FeatureContribution } from './explain.js';
export { expectedTreeValue, TreeShap } from './treeshap.js';

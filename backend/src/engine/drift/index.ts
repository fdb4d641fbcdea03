export { andersonKsamp, type AndersonResult } from './anderson.js';
export {
  decileBins,
  jensenShannon,
  psi,
  wasserstein1,
  DRIFT_BINS,
  SHARE_EPSILON,
  type Binned,
} from './distances.js';
export { ks2samp, KS_EXACT_MAX_N, type KsResult } from './ks.js';
export { kolmogorovSf, smirnovSf } from './kolmogorov.js';
export {
  driftReport,
  featureDrift,
  DRIFT_THRESHOLDS,
  type DriftReport,
  type DriftTest,
  type FeatureDrift,
} from './report.js';

import { EngineError } from '../errors.js';
import { quantileSorted } from '../stats.js';
import { andersonKsamp, type AndersonResult } from './anderson.js';
import { decileBins, jensenShannon, psi, wasserstein1 } from './distances.js';
import { ks2samp, type KsResult } from './ks.js';

/**
 * When each test says "drifted". Each has a statistical and a practical side: with thousands of
 * points a KS or AD test finds differences too small to matter, so the tests that give p-values
 * also need an effect of a size an operator would care about.
 */
export const DRIFT_THRESHOLDS = {
  /** KS: p < 0.01 and the CDFs differ by at least 0.1 somewhere. */
  ksPvalue: 0.01,
  ksStatistic: 0.1,
  /**
   * PSI ≥ 0.2: the usual "significant shift" line (0.1–0.2 is "moderate"), plus PSI's expected
   * value between two samples of one distribution, (bins − 1)(1/n + 1/m), which is 0.23 for two
   * windows of 100 rows: without it small windows drift on noise.
   */
  psi: 0.2,
  /** Jensen–Shannon distance (base 2) ≥ 0.1 on the decile bins. */
  jensenShannon: 0.1,
  /** Wasserstein-1 ≥ 0.2 of the reference's robust spread (IQR / 1.349, the σ of a normal). */
  wassersteinScaled: 0.2,
  /** Anderson–Darling significance level ≤ 0.01 (scipy caps it at 0.001). */
  adSignificance: 0.01,
  /** Consensus: drift when at least this many of the five tests agree. */
  consensus: 3,
} as const;

export type DriftTest = 'ks' | 'psi' | 'jensenShannon' | 'wasserstein' | 'andersonDarling';

export interface FeatureDrift {
  feature: string;
  ks: KsResult;
  psi: number;
  jensenShannon: number;
  wasserstein: number;
  /** Wasserstein-1 over the reference's robust spread: comparable across features and units. */
  wassersteinScaled: number;
  /** Undefined when every value in both windows is the same (the statistic does not exist). */
  andersonDarling?: AndersonResult;
  verdicts: Record<DriftTest, boolean>;
  /** How many of the five tests say drifted. */
  votes: number;
  drifted: boolean;
}

export interface DriftReport {
  features: FeatureDrift[];
  driftedFeatures: string[];
  /** Features by votes then PSI, most drifted first. */
  ranking: string[];
  /** The whole window drifted: at least one feature's consensus says so. */
  drifted: boolean;
}

/** The five tests and the consensus for one feature: `reference` is training data, `current` the recent window. */
export function featureDrift(
  feature: string,
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): FeatureDrift {
  if (reference.length === 0 || current.length === 0) {
    throw new EngineError(
      'EMPTY_DATA',
      `drift of '${feature}': both windows need values (reference ${reference.length}, current ${current.length})`,
    );
  }
  const ks = ks2samp(reference, current);
  const bins = decileBins(reference, current);
  const p = psi(bins.referenceShare, bins.currentShare);
  const js = jensenShannon(bins.referenceShare, bins.currentShare);
  const w = wasserstein1(reference, current);
  const sorted = Float64Array.from(reference).sort();
  const spread = (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 1.349;
  const range = sorted[sorted.length - 1]! - sorted[0]!;
  // A reference with no spread: any movement is a full-scale change.
  const scale = spread > 0 ? spread : range > 0 ? range : 0;
  const wassersteinScaled = scale > 0 ? w / scale : w > 0 ? Number.POSITIVE_INFINITY : 0;
  let ad: AndersonResult | undefined;
  try {
    ad = andersonKsamp(reference, current);
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
  }
  const t = DRIFT_THRESHOLDS;
  const verdicts: Record<DriftTest, boolean> = {
    ks: ks.pvalue < t.ksPvalue && ks.statistic >= t.ksStatistic,
    psi: p >= t.psi + bins.edges.length * (1 / reference.length + 1 / current.length),
    jensenShannon: js >= t.jensenShannon,
    wasserstein: wassersteinScaled >= t.wassersteinScaled,
    andersonDarling: ad !== undefined && ad.significanceLevel <= t.adSignificance,
  };
  const votes = Object.values(verdicts).filter(Boolean).length;
  return {
    feature,
    ks,
    psi: p,
    jensenShannon: js,
    wasserstein: w,
    wassersteinScaled,
    ...(ad ? { andersonDarling: ad } : {}),
    verdicts,
    votes,
    drifted: votes >= t.consensus,
  };
}

/** Drift of every feature (columns of two row-major matrices with the same width). */
export function driftReport(
  names: readonly string[],
  reference: { rows: number; cols: number; data: Float64Array },
  current: { rows: number; cols: number; data: Float64Array },
): DriftReport {
  if (reference.cols !== names.length || current.cols !== names.length) {
    throw new EngineError(
      'FEATURE_MISMATCH',
      `drift: ${names.length} names, reference has ${reference.cols} columns, current ${current.cols}`,
    );
  }
  const column = (m: { rows: number; cols: number; data: Float64Array }, c: number): Float64Array => {
    const out = new Float64Array(m.rows);
    for (let r = 0; r < m.rows; r++) out[r] = m.data[r * m.cols + c]!;
    return out;
  };
  const features = names.map((name, c) => featureDrift(name, column(reference, c), column(current, c)));
  const ranking = [...features].sort((a, b) => b.votes - a.votes || b.psi - a.psi).map((f) => f.feature);
  const driftedFeatures = features.filter((f) => f.drifted).map((f) => f.feature);
  return { features, driftedFeatures, ranking, drifted: driftedFeatures.length > 0 };
}

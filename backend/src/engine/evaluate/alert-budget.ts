import { EngineError } from '../errors.js';
import { runsOf } from './metrics.js';

/** An "N of M" alert rule: fire while at least `minAnomalous` of the last `window` points are anomalous. */
export interface AlertRule {
  window: number;
  minAnomalous: number;
}

/** Which points fire under the rule, given which are anomalous. */
export function firingPoints(anomalous: ArrayLike<boolean | number>, rule: AlertRule): Uint8Array {
  const firing = new Uint8Array(anomalous.length);
  let inWindow = 0;
  for (let t = 0; t < anomalous.length; t++) {
    if (anomalous[t]) inWindow++;
    if (t >= rule.window && anomalous[t - rule.window]) inWindow--;
    firing[t] = inWindow >= rule.minAnomalous ? 1 : 0;
  }
  return firing;
}

/** How many separate alerts the rule raises on a score series at a threshold (score > threshold is anomalous). */
export function alertCount(scores: ArrayLike<number>, threshold: number, rule: AlertRule): number {
  const anomalous = new Uint8Array(scores.length);
  for (let t = 0; t < scores.length; t++) anomalous[t] = scores[t]! > threshold ? 1 : 0;
  return runsOf(firingPoints(anomalous, rule)).length;
}

/**
 * The lowest threshold at which the rule raises at most `maxAlerts` alerts on `scores`: scores of
 * data taken as normal (the training window), so `maxAlerts` is a false-alarm budget. A quantile
 * of scores budgets anomalous *points*; but metrics are autocorrelated, so anomalous points come
 * in runs and the same quantile gives very different numbers of alerts on different metrics. This
 * budgets what a person on call experiences instead. Candidates are the distinct scores, searched
 * by bisection (the alert count falls as the threshold rises, up to the runs merging or splitting).
 */
export function thresholdForAlertBudget(
  scores: ArrayLike<number>,
  rule: AlertRule,
  maxAlerts: number,
): number {
  if (scores.length === 0) throw new EngineError('EMPTY_DATA', 'no scores to choose a threshold from');
  if (!(rule.window >= 1 && rule.minAnomalous >= 1 && rule.minAnomalous <= rule.window)) {
    throw new EngineError(
      'BAD_OPTION',
      `alert rule: need 1 ≤ minAnomalous (${rule.minAnomalous}) ≤ window (${rule.window})`,
      { option: 'minAnomalous' },
    );
  }
  const candidates = Float64Array.from(new Set(Array.from(scores))).sort();
  // Index i means threshold candidates[i]; the highest candidate flags nothing (score > max is false).
  let lo = 0;
  let hi = candidates.length - 1;
  if (alertCount(scores, candidates[lo]!, rule) <= maxAlerts) return candidates[lo]!;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (alertCount(scores, candidates[mid]!, rule) <= maxAlerts) hi = mid;
    else lo = mid;
  }
  return candidates[hi]!;
}

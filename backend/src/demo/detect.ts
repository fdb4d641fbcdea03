import {
  explain,
  firingPoints,
  IsolationForest,
  runsOf,
  thresholdForAlertBudget,
  topFeatures,
  transformBatch,
  type FeatureContribution,
  type FeatureSpec,
} from '../engine/index.js';
import { FIELDS, type HostSeries, type Workload } from './workload.js';

/**
 * Detectors as Isoscope sets them up for Telegraf by default: one per measurement group, each on
 * a few related metrics. An isolation forest picks split features at random, so a change in 2 of
 * 18 features is found only after ~9 splits on average, about as deep as normal points go; on 4
 * features it is found in ~2. Small detectors see incidents that one big model would blur.
 */
export const DETECTORS: Record<string, string[]> = {
  cpu: ['cpu.usage_user', 'cpu.usage_system', 'cpu.usage_iowait', 'system.load1'],
  mem: ['mem.used_percent'],
  net: ['net.bytes_recv', 'net.bytes_sent'],
  diskio: ['diskio.write_bytes', 'cpu.usage_iowait'],
};

/**
 * Each detector's features: the metrics' levels, how far each is from its last hour (rolling z:
 * what changed suddenly), and the time of day (45 % cpu at 3 a.m. is not 45 % at 3 p.m.).
 */
export function detectorFeatures(fields: string[]): FeatureSpec {
  return { fields, rollingWindow: 60, timeOfDay: true };
}

/**
 * The alerting policy an operator would set (and the service's alert rules implement): an alert
 * needs 3 anomalous minutes out of 5, so a one-minute blip pages nobody. The threshold is the
 * lowest at which the days the detector learned from (taken as normal) stay silent even under a
 * rule one minute more sensitive (2 of 5): the maximum of a week underestimates the maximum of
 * the weeks to come, and that minute of margin pays for it. Chosen from principles, not fitted.
 */
export const POLICY = {
  rule: { window: 5, minAnomalous: 3 },
  calibrationRule: { window: 5, minAnomalous: 2 },
  trainingAlerts: 0,
} as const;

export interface Alert {
  detector: string;
  /** Rows of the whole workload, inclusive. */
  start: number;
  end: number;
  peakScore: number;
  /** Mean TreeSHAP contributions over the alert's anomalous minutes, strongest first. */
  top: FeatureContribution[];
}

export interface HostDetection {
  host: string;
  /** Per minute of the watched part: the highest score of any detector, relative to its threshold (score − threshold). */
  margin: Float64Array;
  alerts: Alert[];
}

function detect(
  workload: Workload,
  series: HostSeries,
  detector: string,
  seed: number,
): { margin: Float64Array; alerts: Alert[] } {
  const fields = DETECTORS[detector]!;
  const columns = fields.map((f) => series.values[FIELDS.indexOf(f as (typeof FIELDS)[number])]!);
  const raw = {
    rows: workload.minutes,
    cols: fields.length,
    data: new Float64Array(workload.minutes * fields.length),
  };
  for (let t = 0; t < workload.minutes; t++)
    for (let f = 0; f < fields.length; f++) raw.data[t * fields.length + f] = columns[f]![t]!;
  const times = Float64Array.from(
    { length: workload.minutes },
    (_, t) => workload.startMs + t * workload.stepMs,
  );
  const features = transformBatch(detectorFeatures(fields), raw, times);
  const width = features.names.length;
  // Feature rows before the cut train the model; the rest are scored as they would be live.
  let cut = 0;
  while (cut < features.sourceRow.length && features.sourceRow[cut]! < workload.trainMinutes) cut++;
  const train = { rows: cut, cols: width, data: features.matrix.data.subarray(0, cut * width) };
  const live = {
    rows: features.matrix.rows - cut,
    cols: width,
    data: features.matrix.data.subarray(cut * width),
  };
  const fitted = IsolationForest.fit(train, { seed });
  const forest = fitted.withThreshold(
    thresholdForAlertBudget(fitted.scoreBatch(train), POLICY.calibrationRule, POLICY.trainingAlerts),
  );
  const scores = forest.scoreBatch(live);
  const anomalous = Array.from(scores, (s) => forest.isAnomaly(s));
  const firing = firingPoints(anomalous, POLICY.rule);
  const alerts = runsOf(firing).map(([start, end]): Alert => {
    // The alert covers the anomalous minutes that led up to it as well.
    let from = start;
    while (from > 0 && anomalous[from - 1]) from--;
    const sum = new Float64Array(width);
    let peakScore = 0;
    for (let t = from; t <= end; t++) {
      peakScore = Math.max(peakScore, scores[t]!);
      if (!anomalous[t]) continue;
      const c = explain(forest, live.data.subarray(t * width, (t + 1) * width)).contributions;
      for (let f = 0; f < width; f++) sum[f] += c[f]!;
    }
    const offset = workload.trainMinutes;
    return {
      detector,
      start: from + offset,
      end: end + offset,
      peakScore,
      top: topFeatures(sum, features.names, 3),
    };
  });
  return { margin: scores.map((s) => s - forest.threshold), alerts };
}

export function detectHost(workload: Workload, series: HostSeries, seed = 0): HostDetection {
  const margin = new Float64Array(workload.minutes - workload.trainMinutes).fill(-1);
  const alerts: Alert[] = [];
  for (const detector of Object.keys(DETECTORS)) {
    const result = detect(workload, series, detector, seed);
    for (let t = 0; t < margin.length; t++) margin[t] = Math.max(margin[t]!, result.margin[t]!);
    alerts.push(...result.alerts);
  }
  return { host: series.host, margin, alerts: alerts.sort((a, b) => a.start - b.start) };
}

/** The metric a feature is derived from (`cpu.usage_user.z60` → `cpu.usage_user`). */
export function baseField(feature: string): string {
  return feature.replace(/\.(z\d+|delta|rate|lag\d+)$/, '');
}

/**
 * What one streaming detector per (detector, entity, stage) gives the service: its results as
 * scored rows, labelled with the runtime they came from. Pure: no I/O, no clock. The same `StreamingDetector` that `isoscope replay` runs, so a stage's results over
 * some rows are replay's results over the same rows.
 */
import type { StreamResult } from '../../engine/index.js';
import type { StreamPush } from '../../parallel/stream-run.js';
import { severity } from '../domain/spec.js';

/** production alerts; staging is a shadow on the same rows; backtest is a bootstrap over history. */
export type ResultStage = 'production' | 'staging' | 'backtest';

export interface ScoredRow {
  entity: string;
  timeMs: number;
  score: number;
  /** The threshold the score was judged against (the stream's, or the spec's fixed one). */
  threshold: number;
  anomaly: boolean;
  severity: string;
  topFeature?: string;
  /** For alerts: the strongest contributions with their shares, when the detector gives them. */
  top?: Array<{ feature: string; share: number }>;
  /** The registry version (a checkpoint of this runtime's lineage) the runtime descends from. */
  modelVersion: number;
  /** Which of the stream's own retrains scored the row (0 while it warms up). */
  retrain: number;
  stage: ResultStage;
  /** Any further StreamResult fields, passed through as they come. */
  extra: Record<string, number | string | boolean>;
}

export interface RuntimeLabel {
  entity: string;
  stage: ResultStage;
  version: number;
  /** spec.model.threshold: decisions at this score instead of the stream's own threshold. */
  fixedThreshold?: number;
}

const KNOWN = new Set(['score', 'threshold', 'isAnomaly', 'topFeature', 'modelVersion', 'severity']);

/** One StreamResult as a scored row; fields the service does not know yet are kept in `extra`. */
export function toScoredRow(result: StreamResult, timeMs: number, label: RuntimeLabel): ScoredRow {
  const r = result as StreamResult & Record<string, unknown>;
  const fixed = label.fixedThreshold;
  // While warming up (no model yet) nothing is judged, with or without a fixed threshold.
  const warm = result.modelVersion > 0 && result.threshold > 0;
  const threshold = fixed !== undefined && warm ? fixed : result.threshold;
  const anomaly = fixed !== undefined ? warm && result.score > fixed : result.isAnomaly;
  const extra: ScoredRow['extra'] = {};
  for (const [key, value] of Object.entries(r)) {
    if (KNOWN.has(key)) continue;
    if (
      (typeof value === 'number' && Number.isFinite(value)) ||
      typeof value === 'string' ||
      typeof value === 'boolean'
    )
      extra[key] = value;
  }
  return {
    entity: label.entity,
    timeMs,
    score: result.score,
    threshold,
    anomaly,
    severity:
      typeof r.severity === 'string' && fixed === undefined
        ? r.severity
        : anomaly
          ? severity(result.score, threshold)
          : 'none',
    ...(anomaly && result.topFeature !== undefined
      ? // The stream names one feature per flagged row: alerts carry it whole (share 1); the
        // drill-down link breaks the moment down by every field.
        { topFeature: result.topFeature, top: [{ feature: result.topFeature, share: 1 }] }
      : {}),
    modelVersion: label.version,
    retrain: result.modelVersion,
    stage: label.stage,
    extra,
  };
}

/**
 * A row judged again at a decision threshold of the version's own (a fixed one, or the alert
 * budget chosen at its bootstrap) instead of the stream's: never while the stream warms up.
 */
export function rejudge(row: ScoredRow, decision: number): ScoredRow {
  const warm = row.retrain > 0 && row.threshold > 0;
  const anomaly = warm && row.score > decision;
  const { topFeature, top, ...rest } = row;
  return {
    ...rest,
    threshold: warm ? decision : row.threshold,
    anomaly,
    severity: anomaly ? severity(row.score, decision) : 'none',
    ...(anomaly && topFeature !== undefined ? { topFeature } : {}),
    ...(anomaly && top !== undefined ? { top } : {}),
  };
}

/** A stream's results over some rows (pushSeries, here or on a worker) as scored rows. */
export function toScoredRows(pushed: StreamPush, label: RuntimeLabel): ScoredRow[] {
  return pushed.results.map((result, r) => toScoredRow(result, pushed.times[r]!, label));
}

/**
 * Results in InfluxDB (`isoscope_anomaly`): how a scored row is written, and how results are read
 * back for the API, Grafana and alerts. Every point carries what explains it: score, the threshold
 * it was judged against, decision, severity, stage, version and the stream's retrain (checkpoint).
 */
import { rawQuery, RESULTS_MEASUREMENT, toLine, type InfluxV1Client } from '../../io/influx/index.js';
import type { ResultStage, ScoredRow } from './runtime.js';

/** A StreamResult field name as an InfluxDB field: camelCase to snake_case. */
const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * One scored row as line protocol. Tags: detector, entity, stage, model_version (what Grafana
 * groups by); fields: score, threshold, anomaly, severity, retrain (the stream's model count,
 * with model_version the checkpoint), top_feature when flagged, and whatever else the detector
 * reported.
 */
export function resultLine(detectorId: string, r: ScoredRow): string {
  const extra = Object.fromEntries(Object.entries(r.extra).map(([k, v]) => [snake(k), v]));
  return toLine({
    measurement: RESULTS_MEASUREMENT,
    tags: { detector: detectorId, entity: r.entity, model_version: String(r.modelVersion), stage: r.stage },
    fields: {
      ...extra,
      score: r.score,
      threshold: r.threshold,
      anomaly: r.anomaly,
      severity: r.severity,
      retrain: r.retrain,
      ...(r.topFeature !== undefined ? { top_feature: r.topFeature } : {}),
    },
    timeMs: r.timeMs,
  });
}

export interface StoredResult {
  timeMs: number;
  entity: string;
  stage: string;
  modelVersion: number;
  score: number;
  /** Absent on points written before results carried their threshold. */
  threshold?: number;
  anomaly: boolean;
  severity: string;
  retrain?: number;
  topFeature?: string;
  topContribution?: number;
}

const SEVERITY_RANK: Record<string, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

export interface ResultQuery {
  entity?: string;
  anomaliesOnly?: boolean;
  minSeverity?: string;
  /** Production results (default), the staging shadow's, or a bootstrap's backtest. */
  stage?: ResultStage;
}

/** Reads results back; the InfluxDB client is passed in (the service's, or a test's). */
export class ResultsReader {
  constructor(private readonly influx: Pick<InfluxV1Client, 'query'>) {}

  /** Results of a detector (and entity) in [from, to), oldest first, entities in order within a time. */
  async read(detectorId: string, from: number, to: number, q: ResultQuery = {}): Promise<StoredResult[]> {
    const tags: Record<string, string> = {
      detector: detectorId,
      stage: q.stage ?? 'production',
      ...(q.entity !== undefined ? { entity: q.entity } : {}),
    };
    const columns = [
      'score',
      'threshold',
      'anomaly',
      'severity',
      'retrain',
      'top_feature',
      'top_contribution',
      'entity',
      'model_version',
    ];
    const [series = []] = await this.influx.query(rawQuery(RESULTS_MEASUREMENT, columns, from, to, tags));
    const out: StoredResult[] = [];
    for (const s of series) {
      const col = (name: string): number => s.columns.indexOf(name);
      const num = (row: unknown[], name: string): number | undefined => {
        const v = col(name) >= 0 ? row[col(name)] : null;
        return typeof v === 'number' ? v : undefined;
      };
      for (const row of s.values) {
        const threshold = num(row, 'threshold');
        const retrain = num(row, 'retrain');
        const topContribution = num(row, 'top_contribution');
        const top = col('top_feature') >= 0 ? row[col('top_feature')] : null;
        const r: StoredResult = {
          timeMs: Number(row[col('time')]),
          entity: String(row[col('entity')] ?? ''),
          stage: tags.stage!,
          modelVersion: Number(row[col('model_version')]),
          score: Number(row[col('score')]),
          anomaly: row[col('anomaly')] === true,
          severity: String(row[col('severity')] ?? 'none'),
          ...(threshold !== undefined ? { threshold } : {}),
          ...(retrain !== undefined ? { retrain } : {}),
          ...(top != null ? { topFeature: String(top) } : {}),
          ...(topContribution !== undefined ? { topContribution } : {}),
        };
        if (q.anomaliesOnly && !r.anomaly) continue;
        if (q.minSeverity && (SEVERITY_RANK[r.severity] ?? 0) < (SEVERITY_RANK[q.minSeverity] ?? 0)) continue;
        out.push(r);
      }
    }
    return out.sort((a, b) => a.timeMs - b.timeMs || a.entity.localeCompare(b.entity));
  }
}

/** Consecutive anomalous results of one entity as one stretch (annotations, alerts). */
export function anomalyRuns(
  results: StoredResult[],
  stepMs: number,
): Array<{ entity: string; from: number; to: number; peak: StoredResult }> {
  const byEntity = new Map<string, StoredResult[]>();
  for (const r of results) {
    if (!r.anomaly) continue;
    const list = byEntity.get(r.entity);
    if (list) list.push(r);
    else byEntity.set(r.entity, [r]);
  }
  const runs: Array<{ entity: string; from: number; to: number; peak: StoredResult }> = [];
  for (const [entity, list] of byEntity) {
    let start = list[0]!;
    let peak = start;
    let last = start;
    for (const r of list.slice(1)) {
      if (r.timeMs - last.timeMs > stepMs) {
        runs.push({ entity, from: start.timeMs, to: last.timeMs, peak });
        start = r;
        peak = r;
      } else if (r.score > peak.score) peak = r;
      last = r;
    }
    runs.push({ entity, from: start.timeMs, to: last.timeMs, peak });
  }
  return runs.sort((a, b) => a.from - b.from);
}

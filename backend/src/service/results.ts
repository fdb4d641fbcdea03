import type { FastifyInstance } from 'fastify';
import { rawQuery, RESULTS_MEASUREMENT } from '../io/influx/index.js';

export interface StoredResult {
  timeMs: number;
  entity: string;
  modelVersion: number;
  score: number;
  anomaly: boolean;
  severity: string;
  topFeature?: string;
  topContribution?: number;
}

const SEVERITY_RANK: Record<string, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Results written back to isoscope_anomaly for a detector (and entity) in [from, to), oldest first. */
export async function readResults(
  app: FastifyInstance,
  detectorId: string,
  from: number,
  to: number,
  options: {
    entity?: string;
    anomaliesOnly?: boolean;
    minSeverity?: string;
    /** Read top_feature and top_contribution too (default true). */
    withExplanations?: boolean;
    /** Production results (default) or the shadow results of staging models. */
    stage?: 'production' | 'staging';
  } = {},
): Promise<StoredResult[]> {
  const tags: Record<string, string> = {
    detector: detectorId,
    stage: options.stage ?? 'production',
    ...(options.entity !== undefined ? { entity: options.entity } : {}),
  };
  const columns = [
    'score',
    'anomaly',
    'severity',
    ...(options.withExplanations === false ? [] : ['top_feature', 'top_contribution']),
    'entity',
    'model_version',
  ];
  const q = rawQuery(RESULTS_MEASUREMENT, columns, from, to, tags);
  const [series = []] = await app.influx.query(q);
  const out: StoredResult[] = [];
  for (const s of series) {
    const col = (name: string): number => s.columns.indexOf(name);
    for (const row of s.values) {
      const r: StoredResult = {
        timeMs: Number(row[col('time')]),
        entity: String(row[col('entity')] ?? ''),
        modelVersion: Number(row[col('model_version')]),
        score: Number(row[col('score')]),
        anomaly: row[col('anomaly')] === true,
        severity: String(row[col('severity')] ?? 'none'),
        ...(col('top_feature') >= 0 && row[col('top_feature')] != null
          ? { topFeature: String(row[col('top_feature')]) }
          : {}),
        ...(col('top_contribution') >= 0 && row[col('top_contribution')] != null
          ? { topContribution: Number(row[col('top_contribution')]) }
          : {}),
      };
      if (options.anomaliesOnly && !r.anomaly) continue;
      if (options.minSeverity && (SEVERITY_RANK[r.severity] ?? 0) < (SEVERITY_RANK[options.minSeverity] ?? 0))
        continue;
      out.push(r);
    }
  }
  return out.sort((a, b) => a.timeMs - b.timeMs || a.entity.localeCompare(b.entity));
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

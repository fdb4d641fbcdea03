/**
 * Results in InfluxDB (`isoscope_anomaly`): how a scored row is written, and how results are read
 * back for the API, Grafana and alerts. Every point carries what explains it: score, the threshold
 * it was judged against, decision, severity, stage, version and the stream's retrain (checkpoint).
 */
import {
  rawQuery,
  RESULTS_MEASUREMENT,
  toLine,
  type InfluxV1Client,
  type Series,
} from '../../io/influx/index.js';
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
  /** Cancels the read (its client went away): InfluxDB stops, the call rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * One entity's results as columns, oldest first: what a Grafana frame carries, without an object
 * per point. `threshold`, `topFeature` and `topContribution` hold null where a point has none.
 */
export interface ResultColumns {
  entity: string;
  time: number[];
  score: number[];
  threshold: Array<number | null>;
  anomaly: boolean[];
  severity: string[];
  modelVersion: number[];
  topFeature: Array<string | null>;
  topContribution: Array<number | null>;
}

const COLUMNS = [
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

/** The order results of one time are listed in: entities as String#localeCompare sorts them, faster. */
const entityOrder = new Intl.Collator().compare;

/** Reads results back; the InfluxDB client is passed in (the service's, or a test's). */
export class ResultsReader {
  constructor(
    private readonly influx: Pick<InfluxV1Client, 'query'> & Partial<Pick<InfluxV1Client, 'each'>>,
  ) {}

  private filter(
    detectorId: string,
    q: ResultQuery,
    entities?: readonly string[],
  ): Record<string, string | string[]> {
    return {
      detector: detectorId,
      stage: q.stage ?? 'production',
      ...(q.entity !== undefined ? { entity: q.entity } : {}),
      ...(entities ? { entity: [...entities] } : {}),
    };
  }

  /** Results of a detector (and entity) in [from, to), oldest first, entities in order within a time. */
  async read(detectorId: string, from: number, to: number, q: ResultQuery = {}): Promise<StoredResult[]> {
    const tags = this.filter(detectorId, q);
    const stage = q.stage ?? 'production';
    const query = rawQuery(RESULTS_MEASUREMENT, COLUMNS, from, to, tags, {
      ...(q.anomaliesOnly ? { fieldIs: { anomaly: true } } : {}),
    });
    const [series = []] = await this.influx.query(query, q.signal ? { signal: q.signal } : {});
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
          stage,
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
    return out.sort(
      (a, b) => a.timeMs - b.timeMs || (a.entity === b.entity ? 0 : entityOrder(a.entity, b.entity)),
    );
  }

  /**
   * The same results as columns, one block per entity: `entities` limits the read (undefined: all
   * of them), InfluxDB groups by entity, and each chunk of its answer is appended to its block as
   * it streams in. Blocks are in the order `read` lists them (by first time, then entity), so a
   * caller's frames come out as they did from `read`.
   */
  async columns(
    detectorId: string,
    from: number,
    to: number,
    q: Omit<ResultQuery, 'entity' | 'minSeverity'> & { entities?: readonly string[] } = {},
  ): Promise<ResultColumns[]> {
    const query = rawQuery(
      RESULTS_MEASUREMENT,
      COLUMNS.filter((c) => c !== 'entity'),
      from,
      to,
      this.filter(detectorId, q, q.entities),
      { ...(q.anomaliesOnly ? { fieldIs: { anomaly: true } } : {}), groupBy: ['entity'] },
    );
    const blocks = new Map<string, ResultColumns>();
    const add = (s: Series): void => {
      const entity = s.tags?.entity ?? '';
      let b = blocks.get(entity);
      if (!b) {
        b = {
          entity,
          time: [],
          score: [],
          threshold: [],
          anomaly: [],
          severity: [],
          modelVersion: [],
          topFeature: [],
          topContribution: [],
        };
        blocks.set(entity, b);
      }
      const at = (name: string): number => s.columns.indexOf(name);
      const [time, score, threshold, anomaly, severity, version, top, contribution] = [
        at('time'),
        at('score'),
        at('threshold'),
        at('anomaly'),
        at('severity'),
        at('model_version'),
        at('top_feature'),
        at('top_contribution'),
      ];
      for (const row of s.values) {
        const isAnomaly = row[anomaly] === true;
        if (q.anomaliesOnly && !isAnomaly) continue;
        const th = threshold >= 0 ? row[threshold] : null;
        const tc = contribution >= 0 ? row[contribution] : null;
        const tf = top >= 0 ? row[top] : null;
        b.time.push(Number(row[time]));
        b.score.push(Number(row[score]));
        b.threshold.push(typeof th === 'number' ? th : null);
        b.anomaly.push(isAnomaly);
        b.severity.push(String(row[severity] ?? 'none'));
        b.modelVersion.push(Number(row[version]));
        b.topFeature.push(tf == null ? null : String(tf));
        b.topContribution.push(typeof tc === 'number' ? tc : null);
      }
    };
    const options = q.signal ? { signal: q.signal } : {};
    if (this.influx.each) await this.influx.each(query, (id, s) => id === 0 && add(s), options);
    else for (const s of (await this.influx.query(query, options))[0] ?? []) add(s);
    return [...blocks.values()]
      .filter((b) => b.time.length > 0)
      .sort((a, b) => a.time[0]! - b.time[0]! || entityOrder(a.entity, b.entity));
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

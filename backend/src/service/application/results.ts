/**
 * Results in InfluxDB (`isoscope_anomaly`): how a scored row is written, and how results are read
 * back for the API, Grafana and alerts. Every point carries what explains it: score, the threshold
 * it was judged against, decision, severity, stage, version and the stream's retrain (checkpoint).
 */
import {
  cellValue,
  JsonColumn,
  rawQuery,
  RESULTS_MEASUREMENT,
  scanChunk,
  toLine,
  type InfluxV1Client,
  type RowHandler,
  type SeriesHandler,
} from '../../io/influx/index.js';
import { ANOMALY_CELLS, AnomalyRows, belowSeverity, entityOrder } from './anomaly-rows.js';
import type { ResultStage, ScoredRow } from './runtime.js';
import type { Anomaly } from '../schemas/index.js';

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
 * per point. Each column holds its values as JSON text, copied from InfluxDB's answer as it is
 * (`JsonColumn`): `threshold` and `topContribution` hold null where a point has none, `topFeature`
 * an empty string, `severity` 'none'.
 */
export interface ResultColumns {
  entity: string;
  /** Points in the block (every column holds this many values). */
  rows: number;
  /** The first point's time (ms): blocks are ordered by it. */
  firstTime: number;
  time: JsonColumn;
  score: JsonColumn;
  threshold: JsonColumn;
  anomaly: JsonColumn;
  severity: JsonColumn;
  topFeature: JsonColumn;
  topContribution: JsonColumn;
  /** The model version of the last point. */
  modelVersion: number;
}

/** The fields and tags a result query asks InfluxDB for, in order (benchmarks send the same). */
export const RESULT_COLUMNS = [
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

/** Reads results back; the InfluxDB client is passed in (the service's, or a test's). */
export class ResultsReader {
  constructor(
    private readonly influx: Pick<InfluxV1Client, 'query'> & Partial<Pick<InfluxV1Client, 'scan'>>,
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

  /** InfluxDB's answer to `query`, each row handed over as bytes (InfluxV1Client.scan). */
  private async scan(query: string, onSeries: SeriesHandler, signal: AbortSignal | undefined): Promise<void> {
    const options = signal ? { signal } : {};
    if (this.influx.scan) await this.influx.scan(query, onSeries, options);
    else {
      // A client without scan (a test's): its series, as InfluxDB's JSON again, through the same scan.
      const [series = []] = await this.influx.query(query, options);
      const line = { results: [{ statement_id: 0, series }] };
      scanChunk(new TextEncoder().encode(JSON.stringify(line)), onSeries);
    }
  }

  /** What `read` and `anomalies` ask InfluxDB: the same text, so the same answer. */
  private readQuery(detectorId: string, from: number, to: number, q: ResultQuery): string {
    return rawQuery(RESULTS_MEASUREMENT, RESULT_COLUMNS, from, to, this.filter(detectorId, q), {
      ...(q.anomaliesOnly ? { fieldIs: { anomaly: true } } : {}),
    });
  }

  /**
   * The anomalous results `read(…, { anomaliesOnly: true })` lists, as bytes of InfluxDB's answer
   * to the same query (AnomalyRows: a row's cells copied once, no object, string or number per
   * point), for the answers written straight from them (anomaly-rows.ts). `wanted` keeps those
   * entities' rows (a frame's entities, as they were filtered from `read`'s objects).
   */
  async anomalies(
    detectorId: string,
    from: number,
    to: number,
    q: Pick<ResultQuery, 'entity' | 'minSeverity' | 'stage' | 'signal'> & { wanted?: readonly string[] } = {},
  ): Promise<AnomalyRows> {
    const query = this.readQuery(detectorId, from, to, { ...q, anomaliesOnly: true });
    const rows = new AnomalyRows(q.wanted);
    await this.scan(
      query,
      (s) => {
        if (s.statementId !== 0) return undefined;
        // Where each cell's range is in a row's cells (-1: a column this answer lacks).
        const cell = (name: string): number => {
          const c = s.columns.indexOf(name);
          return c >= 0 ? 2 * c : -1;
        };
        const at = Int32Array.from(ANOMALY_CELLS, cell);
        const anomaly = cell('anomaly');
        const entity = cell('entity');
        return (bytes, cells) => rows.add(bytes, cells, at, anomaly, entity, q.minSeverity);
      },
      q.signal,
    );
    return rows;
  }

  /** Results of a detector (and entity) in [from, to), oldest first, entities in order within a time. */
  async read(detectorId: string, from: number, to: number, q: ResultQuery = {}): Promise<StoredResult[]> {
    const stage = q.stage ?? 'production';
    const query = this.readQuery(detectorId, from, to, q);
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
        if (q.minSeverity && belowSeverity(r.severity, q.minSeverity)) continue;
        out.push(r);
      }
    }
    return out.sort(
      (a, b) => a.timeMs - b.timeMs || (a.entity === b.entity ? 0 : entityOrder(a.entity, b.entity)),
    );
  }

  /**
   * The same results as columns, one block per entity: `entities` limits the read (undefined: all
   * of them), InfluxDB groups by entity, and each row of its answer is copied into its block's
   * columns as bytes while the answer streams in (`InfluxV1Client.scan`: no string, number or
   * array per point). Blocks are in the order `read` lists them (by first time, then entity), so
   * a caller's frames come out as they did from `read`.
   */
  async columns(
    detectorId: string,
    from: number,
    to: number,
    q: Omit<ResultQuery, 'entity' | 'minSeverity'> & { entities?: readonly string[] } = {},
  ): Promise<ResultColumns[]> {
    const query = rawQuery(
      RESULTS_MEASUREMENT,
      RESULT_COLUMNS.filter((c) => c !== 'entity'),
      from,
      to,
      this.filter(detectorId, q, q.entities),
      { ...(q.anomaliesOnly ? { fieldIs: { anomaly: true } } : {}), groupBy: ['entity'] },
    );
    const blocks = new Map<string, ResultColumns>();
    const pieces: Array<() => void> = [];
    const onSeries: SeriesHandler = (s) => {
      if (s.statementId !== 0) return undefined;
      const entity = s.tags?.entity ?? '';
      let b = blocks.get(entity);
      if (!b) {
        b = {
          entity,
          rows: 0,
          firstTime: Number.NaN,
          time: new JsonColumn(),
          score: new JsonColumn(),
          threshold: new JsonColumn(),
          anomaly: new JsonColumn('false'),
          severity: new JsonColumn('"none"'),
          topFeature: new JsonColumn('""'),
          topContribution: new JsonColumn(),
          modelVersion: Number.NaN,
        };
        blocks.set(entity, b);
      }
      const block = b;
      const at = (name: string): number => 2 * s.columns.indexOf(name);
      const [time, score, threshold, anomaly, severity, version, top, contribution] = [
        'time',
        'score',
        'threshold',
        'anomaly',
        'severity',
        'model_version',
        'top_feature',
        'top_contribution',
      ].map(at) as [number, number, number, number, number, number, number, number];
      // A column the answer lacks (an old point's) is at -2: cells[-2] and cells[-1] are undefined,
      // read as -1, a missing cell. No tuple per cell: this runs for every point.
      const handler: RowHandler = (bytes, cells) => {
        const as = cells[anomaly] ?? -1;
        // "true" exactly: InfluxDB writes a boolean field as the literal.
        const isAnomaly = (cells[anomaly + 1] ?? -1) - as === 4 && bytes[as] === 0x74;
        if (q.anomaliesOnly && !isAnomaly) return;
        const ts = cells[time] ?? -1;
        const te = cells[time + 1] ?? -1;
        if (block.rows === 0) block.firstTime = Number(cellValue(bytes, ts, te));
        block.rows++;
        block.time.add(bytes, ts, te);
        block.score.add(bytes, cells[score] ?? -1, cells[score + 1] ?? -1);
        block.threshold.add(bytes, cells[threshold] ?? -1, cells[threshold + 1] ?? -1);
        block.anomaly.add(bytes, as, cells[anomaly + 1] ?? -1);
        block.severity.add(bytes, cells[severity] ?? -1, cells[severity + 1] ?? -1);
        block.topFeature.add(bytes, cells[top] ?? -1, cells[top + 1] ?? -1);
        block.topContribution.add(bytes, cells[contribution] ?? -1, cells[contribution + 1] ?? -1);
        lastBytes = bytes;
        lastStart = cells[version] ?? -1;
        lastEnd = cells[version + 1] ?? -1;
      };
      // Where the block's last point's version is, kept per series piece; parsed after the read.
      let lastBytes: Uint8Array | undefined;
      let lastStart = -1;
      let lastEnd = -1;
      pieces.push(() => {
        if (lastBytes) block.modelVersion = Number(cellValue(lastBytes, lastStart, lastEnd));
      });
      return handler;
    };
    await this.scan(query, onSeries, q.signal);
    for (const settle of pieces) settle();
    // Every column's last line copied now: a column a frame does not use gives its scratch back too.
    for (const b of blocks.values())
      for (const c of [b.time, b.score, b.threshold, b.anomaly, b.severity, b.topFeature, b.topContribution])
        c.flush();
    return [...blocks.values()]
      .filter((b) => b.rows > 0)
      .sort((a, b) => a.firstTime - b.firstTime || entityOrder(a.entity, b.entity));
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

/**
 * A stored result as an anomaly of the API (the Anomaly schema's object). The routes write their
 * answers from InfluxDB's bytes instead (anomaly-rows.ts); this is what those bytes must equal,
 * and what the tests and the benchmark hold them against.
 */
export function anomalyObject(r: StoredResult): Anomaly {
  return {
    time: new Date(r.timeMs).toISOString(),
    entity: r.entity,
    score: r.score,
    severity: r.severity,
    modelVersion: r.modelVersion,
    ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
    ...(r.topFeature !== undefined ? { topFeature: r.topFeature } : {}),
    ...(r.topContribution !== undefined ? { topContribution: r.topContribution } : {}),
  };
}

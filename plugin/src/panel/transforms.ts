import type { DataFrame, Field } from '@grafana/data';
import { representativeMoment } from '../peak';

/** Severity names in rising order, as the service writes them. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: string | null | undefined): number {
  return SEVERITIES.indexOf((s ?? '') as Severity);
}

export interface MetricSeries {
  name: string;
  unit?: string;
  time: number[];
  values: Array<number | null>;
  /** The expected range (training data's 5th to 95th percentile), when a query returned it. */
  expected?: { low: number; high: number };
}

export interface ScoreSeries {
  time: number[];
  score: Array<number | null>;
  anomaly: boolean[];
  severity: string[];
  threshold?: number;
  /** Top contributing feature per point, from a contributions query, where known. */
  topFeature: Array<string | undefined>;
}

/** A run of consecutive anomalous points: what the panel shades and what a click explains. */
export interface Stretch {
  start: number;
  end: number;
  severity: Severity;
  peakScore: number;
  peakTime: number;
  /** What a click explains: the peak of the smoothed score over the stretch (`representativeMoment`). */
  explainTime: number;
  topFeature?: string;
}

/** Everything the panel draws for one entity (host). */
export interface Timeline {
  entity: string;
  detector?: string;
  metrics: MetricSeries[];
  score?: ScoreSeries;
  stretches: Stretch[];
}

const field = (frame: DataFrame, name: string): Field | undefined => frame.fields.find((f) => f.name === name);
const timeField = (frame: DataFrame): Field | undefined => frame.fields.find((f) => f.type === 'time');
const entityOf = (f: Field | undefined): string => f?.labels?.entity ?? f?.labels?.host ?? '';
const numbers = (f: Field): Array<number | null> =>
  Array.from(f.values as ArrayLike<unknown>, (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));

/**
 * The query results grouped into one timeline per entity: Isoscope score frames, feature frames,
 * expected-range frames and contribution frames, and plain metric frames from other data sources
 * (InfluxDB) whose `host` or `entity` label names the entity.
 */
export function toTimelines(frames: DataFrame[]): Timeline[] {
  const byEntity = new Map<string, Timeline>();
  const timeline = (entity: string, detector?: string): Timeline => {
    let t = byEntity.get(entity);
    if (!t) {
      t = { entity, metrics: [], stretches: [] };
      byEntity.set(entity, t);
    }
    if (detector && !t.detector) {
      t.detector = detector;
    }
    return t;
  };
  const expected: Array<{ entity: string; metric: string; low: number; high: number }> = [];
  const contributions: Array<{ entity: string; time: number[]; feature: Array<string | undefined> }> = [];

  for (const frame of frames) {
    const time = timeField(frame);
    if (!time) {
      continue;
    }
    const times = Array.from(time.values as ArrayLike<number>, Number);
    const score = field(frame, 'score');
    const anomaly = field(frame, 'anomaly');
    const topFeature = field(frame, 'top_feature');
    if (score && anomaly) {
      const t = timeline(entityOf(score), score.labels?.detector);
      const threshold = field(frame, 'threshold');
      const severity = field(frame, 'severity');
      t.score = {
        time: times,
        score: numbers(score),
        anomaly: Array.from(anomaly.values as ArrayLike<unknown>, Boolean),
        severity: severity
          ? Array.from(severity.values as ArrayLike<unknown>, (v) => String(v ?? ''))
          : times.map(() => ''),
        threshold: threshold ? (numbers(threshold).find((v) => v !== null) ?? undefined) : undefined,
        topFeature: times.map(() => undefined),
      };
      continue;
    }
    if (topFeature && field(frame, 'top_contribution')) {
      const entity = entityOf(topFeature);
      contributions.push({
        entity,
        time: times,
        feature: Array.from(topFeature.values as ArrayLike<unknown>, (v) => (v ? String(v) : undefined)),
      });
      continue;
    }
    for (const f of frame.fields) {
      if (f.type !== 'number') {
        continue;
      }
      const range = /^(.*)_expected_(low|high)$/.exec(f.name);
      if (range) {
        const value = numbers(f).find((v) => v !== null);
        if (value !== undefined && value !== null && range[2] === 'low') {
          const high = field(frame, `${range[1]}_expected_high`);
          const highValue = high ? numbers(high).find((v) => v !== null) : undefined;
          if (highValue !== undefined && highValue !== null) {
            expected.push({ entity: entityOf(f), metric: range[1]!, low: value, high: highValue });
          }
        }
        continue;
      }
      const t = timeline(entityOf(f), f.labels?.detector);
      t.metrics.push({
        name: f.config?.displayName ?? f.name,
        unit: f.config?.unit,
        time: times,
        values: numbers(f),
      });
    }
  }

  for (const e of expected) {
    const metric = byEntity.get(e.entity)?.metrics.find((m) => m.name === e.metric);
    if (metric) {
      metric.expected = { low: e.low, high: e.high };
    }
  }
  for (const c of contributions) {
    const s = byEntity.get(c.entity)?.score;
    if (!s) {
      continue;
    }
    const at = new Map(s.time.map((t, i) => [t, i]));
    c.time.forEach((t, k) => {
      const i = at.get(t);
      if (i !== undefined) {
        s.topFeature[i] = c.feature[k];
      }
    });
  }
  for (const t of byEntity.values()) {
    t.stretches = t.score ? stretchesOf(t.score) : [];
  }
  return [...byEntity.values()]
    .filter((t) => t.metrics.length > 0 || t.score)
    .sort((a, b) => peak(b) - peak(a) || a.entity.localeCompare(b.entity));
}

function peak(t: Timeline): number {
  return t.stretches.reduce((m, s) => Math.max(m, s.peakScore), 0);
}

/**
 * Runs of anomalous points. A run ends at the next normal point's time when there is one, so a
 * single flagged point still shades the interval it stands for.
 */
export function stretchesOf(s: ScoreSeries): Stretch[] {
  const out: Stretch[] = [];
  let i = 0;
  while (i < s.time.length) {
    if (!s.anomaly[i]) {
      i++;
      continue;
    }
    let j = i;
    let best = i;
    let severity = Math.max(0, severityRank(s.severity[i]));
    while (j + 1 < s.time.length && s.anomaly[j + 1]) {
      j++;
      severity = Math.max(severity, severityRank(s.severity[j]));
      if ((s.score[j] ?? 0) > (s.score[best] ?? 0)) {
        best = j;
      }
    }
    const step = j + 1 < s.time.length ? s.time[j + 1]! - s.time[j]! : i > 0 ? s.time[i]! - s.time[i - 1]! : 0;
    const moment = representativeMoment(s.time, s.score, s.anomaly, [s.time[i]!, s.time[j]! + 1]);
    out.push({
      start: s.time[i]!,
      end: s.time[j]! + step,
      severity: SEVERITIES[severity]!,
      peakScore: s.score[best] ?? 0,
      peakTime: s.time[best]!,
      explainTime: moment?.time ?? s.time[best]!,
      topFeature: s.topFeature[moment?.index ?? best] ?? s.topFeature[best],
    });
    i = j + 1;
  }
  return out;
}

/** The stretch under a time (a hover or a click), if any. */
export function stretchAt(stretches: Stretch[], time: number): Stretch | undefined {
  return stretches.find((s) => time >= s.start && time < Math.max(s.end, s.start + 1));
}

/** The index of the sample nearest to `time` in a sorted time array. */
export function nearestIndex(times: number[], time: number): number {
  if (times.length === 0) {
    return -1;
  }
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < time) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo > 0 && Math.abs(times[lo - 1]! - time) <= Math.abs(times[lo]! - time) ? lo - 1 : lo;
}

/** Metrics aligned on one time axis for uPlot: the union of their times, gaps as null. */
export function alignMetrics(metrics: MetricSeries[]): { time: number[]; values: Array<Array<number | null>> } {
  const all = Array.from(new Set(metrics.flatMap((m) => m.time))).sort((a, b) => a - b);
  const index = new Map(all.map((t, i) => [t, i]));
  const values = metrics.map((m) => {
    const row: Array<number | null> = all.map(() => null);
    m.time.forEach((t, k) => {
      row[index.get(t)!] = m.values[k] ?? null;
    });
    return row;
  });
  return { time: all, values };
}

/**
 * Incidents in InfluxDB (`isoscope_incidents`) and as Grafana annotations. One point per incident,
 * written each time the incident opens, changes or resolves. InfluxDB keeps one point per
 * (measurement, tag set, time) and a second write replaces the first, so the point is keyed by
 * what never changes: tags detector and entity, time the incident's start. Everything that changes
 * (severity, state, end, peak, top metrics) is a field, so rewriting the incident overwrites its
 * point instead of adding a series. Grafana's own InfluxDB data source can then show incidents as
 * annotations (docs/grafana.md); the Isoscope data source shows them from the registry.
 */
import { ident, str, time, toLine, type InfluxV1Client } from '../../io/influx/index.js';
import type { IncidentRecord } from '../../io/registry/index.js';

export const INCIDENTS_MEASUREMENT = 'isoscope_incidents';

/** How many of an incident's top metrics its text names. */
const TOP_METRICS = 3;

/** "cpu: high incident on web-1" (firing / resolved is in the tags and the text). */
export function incidentTitle(r: Pick<IncidentRecord, 'detectorId' | 'entity' | 'severity'>): string {
  return `${r.detectorId}: ${r.severity} incident on ${r.entity || 'all'}`;
}

/** The metrics most often at the top of its flagged rows, most often first: "usage_user ×12, usage_idle ×3". */
export function topMetricsText(topMetrics: Record<string, number>): string {
  return Object.entries(topMetrics)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP_METRICS)
    .map(([metric, n]) => `${metric} ×${n}`)
    .join(', ');
}

/** What an operator reads on the annotation: state (and the rules that kept it quiet), peak, flagged rows and top metrics. */
export function incidentText(r: IncidentRecord): string {
  const top = topMetricsText(r.topMetrics);
  const rules = r.suppressedByAll ?? (r.suppressedBy ? [r.suppressedBy] : []);
  const quiet =
    rules.length > 1
      ? ` (suppressed by the rules: ${rules.map((b) => b.reason).join('; ')})`
      : r.suppressedBy
        ? ` (suppressed by the rule: ${r.suppressedBy.reason})`
        : ' (suppressed)';
  return (
    `${r.state}${r.suppressed ? quiet : ''}; peak score ${r.peakScore.toFixed(3)} at ` +
    `${new Date(r.peakAt).toISOString()}; ${r.flagged} flagged of ${r.spanRows} rows` +
    (top ? `; top metrics ${top}` : '')
  );
}

/** One incident as a line of `isoscope_incidents` (see the module comment for the key). */
export function incidentLine(r: IncidentRecord): string {
  return toLine({
    measurement: INCIDENTS_MEASUREMENT,
    tags: { detector: r.detectorId, entity: r.entity },
    fields: {
      id: r.id,
      title: incidentTitle(r),
      text: incidentText(r),
      severity: r.severity,
      state: r.state,
      start_ms: r.startAt,
      end_ms: r.endAt,
      peak_ms: r.peakAt,
      peak_score: r.peakScore,
      flagged: r.flagged,
      suppressed: r.suppressed,
      top_metrics: topMetricsText(r.topMetrics),
    },
    timeMs: r.startAt,
  });
}

/**
 * Deletes the points a resolved incident left at an older start: a backfill that merges earlier
 * flags into a stored incident moves its start, so its new point is written at a new time and
 * the old one (later, and no later than its end) would show as a second annotation. Live scoring
 * never moves a start (an incident opens at its first flag), so only resolved incidents are
 * looked at: one query per entity of the batch, over the span of its incidents. Only times that
 * hold one of these incidents' ids at another time than its start go.
 */
export async function dropStalePoints(
  influx: Pick<InfluxV1Client, 'query'>,
  records: IncidentRecord[],
): Promise<number> {
  const byEntity = new Map<string, IncidentRecord[]>();
  for (const r of records) {
    if (r.state !== 'resolved') continue;
    const key = JSON.stringify([r.detectorId, r.entity]);
    byEntity.set(key, [...(byEntity.get(key) ?? []), r]);
  }
  let dropped = 0;
  for (const list of byEntity.values()) {
    const { detectorId, entity } = list[0]!;
    const starts = new Map(list.map((r) => [r.id, r.startAt]));
    const from = Math.min(...list.map((r) => r.startAt));
    const to = Math.max(...list.map((r) => r.endAt));
    const series = `${ident(INCIDENTS_MEASUREMENT)} WHERE "detector" = ${str(detectorId)} AND "entity" = ${str(entity)}`;
    const [found = []] = await influx.query(
      `SELECT "id" FROM ${series} AND time >= ${time(from)} AND time <= ${time(to)}`,
    );
    const stale = found.flatMap((s) =>
      s.values
        .filter(([t, id]) => starts.has(String(id)) && starts.get(String(id)) !== Number(t))
        .map(([t]) => Number(t)),
    );
    for (const t of stale) await influx.query(`DELETE FROM ${series} AND time = ${time(t)}`);
    dropped += stale.length;
  }
  return dropped;
}

export interface IncidentAnnotation {
  time: number;
  timeEnd: number;
  title: string;
  text: string;
  tags: string[];
}

/**
 * An incident as a Grafana region: from its start to its end, or to `now` while it fires (it
 * still goes on; its last flag is only where it stood at the last interval).
 */
export function incidentAnnotation(r: IncidentRecord, now: number): IncidentAnnotation {
  return {
    time: r.startAt,
    timeEnd: r.state === 'firing' ? Math.max(r.endAt, now) : r.endAt,
    title: incidentTitle(r),
    text: incidentText(r),
    tags: ['isoscope', 'incident', r.detectorId, r.entity, r.severity, r.state].filter((t) => t !== ''),
  };
}

import type { AlertEvent } from '../io/alerts/index.js';
import type { ScoredRow } from './application/runtime.js';

export interface AlertRule {
  window: number;
  minAnomalous: number;
  /** After an alert resolves, the same entity does not page again for this long. */
  cooldownMinutes: number;
  /** Only anomalous points at least this severe count (default low: all of them). */
  minSeverity?: string;
}

/** Per detector and entity: where the alert rule stands. JSON-safe, kept in the registry. */
export interface AlertState {
  /** 0/1 for the last `window` scored points, oldest first. */
  recent: number[];
  firing: boolean;
  startsAt?: number;
  peakScore?: number;
  peakTop?: Array<{ feature: string; share: number }>;
  severity?: string;
  lastEndedAt?: number;
}

const RANK: Record<string, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

/**
 * The alert rule over one entity's newly scored points, in time order: it fires when at least
 * `minAnomalous` of the last `window` points are anomalous (and the cooldown since the last alert
 * has passed), and resolves when none of the last `window` is. While firing it keeps the peak:
 * the highest score, its top features and the worst severity.
 */
export function evaluateAlertRule(
  rule: AlertRule,
  state: AlertState,
  rows: ScoredRow[],
  describe: { detector: string; entity: string; link: (time: number) => string },
): { state: AlertState; events: AlertEvent[] } {
  const s: AlertState = { ...state, recent: [...state.recent] };
  const events: AlertEvent[] = [];
  const event = (status: AlertEvent['status'], endsAt?: number): AlertEvent => ({
    status,
    detector: describe.detector,
    entity: describe.entity,
    severity: s.severity ?? 'low',
    score: s.peakScore ?? 0,
    startsAt: s.startsAt!,
    ...(endsAt !== undefined ? { endsAt } : {}),
    topFeatures: s.peakTop ?? [],
    link: describe.link(s.startsAt!),
  });
  const counts = (row: ScoredRow): boolean =>
    row.anomaly && (RANK[row.severity] ?? 0) >= (RANK[rule.minSeverity ?? 'low'] ?? 1);
  for (const row of rows) {
    s.recent.push(counts(row) ? 1 : 0);
    if (s.recent.length > rule.window) s.recent.shift();
    const count = s.recent.reduce((a, b) => a + b, 0);
    if (s.firing) {
      if (row.anomaly && row.score > (s.peakScore ?? 0)) {
        s.peakScore = row.score;
        s.peakTop = row.top ?? s.peakTop;
      }
      if (row.anomaly && (RANK[row.severity] ?? 0) > (RANK[s.severity ?? 'none'] ?? 0))
        s.severity = row.severity;
      if (count === 0) {
        events.push(event('resolved', row.timeMs));
        s.firing = false;
        s.lastEndedAt = row.timeMs;
      }
      continue;
    }
    const cooledDown =
      s.lastEndedAt === undefined || row.timeMs - s.lastEndedAt >= rule.cooldownMinutes * 60_000;
    if (count >= rule.minAnomalous && cooledDown) {
      s.firing = true;
      s.startsAt = row.timeMs;
      s.peakScore = row.score;
      s.peakTop = row.top ?? [];
      s.severity = row.severity === 'none' ? 'low' : row.severity;
      events.push(event('firing'));
    }
  }
  return { state: s, events };
}

/**
 * Ends an open alert at `at` because the points that kept it firing were suppressed afterwards (a
 * rule applied to incidents already recorded): the resolution the rule would have sent had those
 * points been inside the rule when scored. The window forgets them and the cooldown starts, as
 * after any resolution. Nothing happens when no alert is open.
 */
export function endAlert(
  state: AlertState,
  at: number,
  describe: { detector: string; entity: string; link: (time: number) => string },
): { state: AlertState; events: AlertEvent[] } {
  if (!state.firing) return { state, events: [] };
  const event: AlertEvent = {
    status: 'resolved',
    detector: describe.detector,
    entity: describe.entity,
    severity: state.severity ?? 'low',
    score: state.peakScore ?? 0,
    startsAt: state.startsAt!,
    endsAt: at,
    topFeatures: state.peakTop ?? [],
    link: describe.link(state.startsAt!),
  };
  return {
    state: { ...state, recent: state.recent.map(() => 0), firing: false, lastEndedAt: at },
    events: [event],
  };
}

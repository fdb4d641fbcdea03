/**
 * `auto-if-better` judged by operators' verdicts. Over the recent holdout, each model's flagged
 * rows are counted against the incidents operators judged:
 *
 * - found: the incidents judged `real` in which the model flags at least one row (within one
 *   interval of the incident's span: its first and last flags are production's, and a candidate's
 *   may sit a row apart);
 * - false alarms: the incidents judged `not_anomaly` in which it flags a row, plus each of its
 *   flagged episodes (flags fewer than EPISODE_GAP rows apart, as incidents group them) that
 *   touches no incident at all.
 *
 * Episodes inside an incident nobody judged, or one judged `expected` (real but planned), count
 * neither way: nobody said whether they should page. The candidate is better when it finds at
 * least as many real incidents with no more false alarms.
 */
import { EPISODE_GAP, episodesOf } from '../../engine/index.js';
import type { Verdict } from '../../io/registry/index.js';

/** An incident over the holdout with its current verdict (undefined: nobody judged it). */
export interface JudgedIncident {
  startAt: number;
  endAt: number;
  verdict?: Verdict;
}

export interface VerdictCounts {
  /** Real incidents it flags, of `real` in all. */
  found: number;
  real: number;
  /** Not-an-anomaly incidents it flags, plus its flagged episodes outside every incident. */
  falseAlarms: number;
}

/** Whether the holdout has verdicts to judge by: an incident judged real or not an anomaly. */
export function hasVerdicts(incidents: JudgedIncident[]): boolean {
  return incidents.some((i) => i.verdict === 'real' || i.verdict === 'not_anomaly');
}

/**
 * One model's counts over its holdout rows (time order) against the judged incidents; `stepMs`
 * the detector's interval (the slack around an incident).
 */
export function countByVerdicts(
  rows: Array<{ timeMs: number; anomaly: boolean }>,
  incidents: JudgedIncident[],
  stepMs: number,
): VerdictCounts {
  const flaggedTimes = rows.filter((r) => r.anomaly).map((r) => r.timeMs);
  const touches = (i: JudgedIncident, from: number, to: number): boolean =>
    from <= i.endAt + stepMs && i.startAt - stepMs <= to;
  const flagsIn = (i: JudgedIncident): boolean => flaggedTimes.some((t) => touches(i, t, t));
  const real = incidents.filter((i) => i.verdict === 'real');
  let falseAlarms = incidents.filter((i) => i.verdict === 'not_anomaly' && flagsIn(i)).length;
  const episodes = episodesOf(
    rows.map((r) => r.anomaly),
    EPISODE_GAP,
  );
  for (const [a, b] of episodes) {
    const from = rows[a]!.timeMs;
    const to = rows[b]!.timeMs;
    if (!incidents.some((i) => touches(i, from, to))) falseAlarms++;
  }
  return { found: real.filter(flagsIn).length, real: real.length, falseAlarms };
}

/** The candidate finds at least as many real incidents as production, with no more false alarms. */
export function betterByVerdicts(candidate: VerdictCounts, production: VerdictCounts): boolean {
  return candidate.found >= production.found && candidate.falseAlarms <= production.falseAlarms;
}

/** "finds 2 of 2 real incidents, 1 false alarm" */
export function countsText(c: VerdictCounts): string {
  return `finds ${c.found} of ${c.real} real incident${c.real === 1 ? '' : 's'}, ${c.falseAlarms} false alarm${c.falseAlarms === 1 ? '' : 's'}`;
}

/** Formatting shared by the CLI's reports and the benchmarks. */
import type { NabScore, NabThresholdScore, OperatorMetrics } from '../engine/index.js';

/** A duration in the largest unit that keeps it readable: "45 s", "3 min", "1.5 h", "2 d". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms === 0) return '0 s';
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(ms) >= size) return `${Number((ms / size).toFixed(1))} ${unit}`;
  }
  return `${Math.round(ms)} ms`;
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/**
 * The operator's lines of a text report (evaluate, replay's summary): incidents found and how late,
 * alert episodes and event precision, false episodes per series-day. `timed`: the metrics had times.
 */
export function operatorLines(m: Omit<OperatorMetrics, 'outcomes'>, gap: number, timed: boolean): string[] {
  const delay = (rows: number, ms: number): string =>
    `${Number(rows.toFixed(1))} rows${timed ? ` (${formatDuration(ms)})` : ''}`;
  return [
    `incidents found ${m.found}/${m.incidents} (event recall ${fixed(m.eventRecall, 2)})` +
      (m.found
        ? `, median delay ${delay(m.medianDelayRows, m.medianDelayMs)}, mean ${delay(m.meanDelayRows, m.meanDelayMs)}`
        : ''),
    `alert episodes ${m.episodes} (flags < ${gap} rows apart): ${m.trueEpisodes} overlap an incident, ${m.falseEpisodes} false; event precision ${fixed(m.eventPrecision, 2)}`,
    timed
      ? `false episodes per series-day ${fixed(m.falseEpisodesPerSeriesDay, 2)} (${m.falseEpisodes} over ${fixed(m.seriesDays, 2)} series-days, ${m.series} series)`
      : 'false episodes per series-day: n/a (no time column)',
  ];
}

/** One line with the NAB-style score at the decisions (when there are any) and at the best threshold. */
export function nabLine(decisions: NabScore | undefined, best: NabThresholdScore): string {
  const rule = Number.isFinite(best.threshold)
    ? `score ≥ ${Number(best.threshold.toPrecision(4))}`
    : 'flag nothing: every threshold costs more than it finds';
  const atBest = `${fixed(best.score, 1)} at its best threshold (${rule})`;
  return (
    `NAB-style score (0 = flag nothing, 100 = perfect; ${best.windows} windows): ` +
    (decisions ? `${fixed(decisions.score, 1)} at the detector's decisions, ${atBest}` : atBest)
  );
}

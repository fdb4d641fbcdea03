/**
 * `npm run bench:quiet`: false alarms on data an operator would call normal. Every series of the
 * quiet corpus (quiet-corpus.ts) goes through the streaming detector with replay's defaults, one row
 * at a time; after the first day (the detector's warm-up and first models), every alert episode is
 * a false alarm. Prints, per series and overall, alert episodes per series-day (flags fewer than 10
 * rows apart are one episode, as `isoscope evaluate` counts them) and the share of rows flagged.
 * The goal (issue 18): at most 0.05 episodes per series-day.
 *
 * Options: `--seeds N` corpus seeds (default 1), `--days N` days per series (default 7),
 * `--alerts-per-day X` the detector's alert budget (default: the detector's), `--metric-forests
 * share,trees,samples[,split]` the detector's per-metric forests (default off; see options.ts),
 * `--budget-split even|union` how it splits its budget between forest groups, `--whole-forest
 * off|trees,samples` its forest over every feature (see options.ts).
 */
import { parseArgs } from 'node:util';
import {
  defaultStreamFeatures,
  operatorMetrics,
  StreamingDetector,
  type StreamOptions,
} from '../engine/index.js';
import { DETECTOR_FLAGS, detectorFlags } from './options.js';
import { quietCorpus, type QuietSeries } from './quiet-corpus.js';

const DAY_MS = 86_400_000;

export interface QuietResult {
  name: string;
  seriesDays: number;
  episodes: number;
  flaggedRows: number;
  rows: number;
  /** The series' metrics, and how many the alert budget counted them as (see engine/stream/budget.ts). */
  metrics: number;
  effectiveMetrics: number;
  /** How many forest groups the budget split counted as alerting independently (see engine/stream/union.ts). */
  effectiveGroups: number;
}

/** Replays one series; counts alert episodes and flagged rows after its first day. */
export function replayQuiet(
  series: QuietSeries,
  seed = 0,
  alertsPerDay?: number,
  extra: Partial<StreamOptions> = {},
): QuietResult {
  const cols = series.fields.length;
  const detector = new StreamingDetector({
    features: defaultStreamFeatures(series.fields),
    seed,
    ...(alertsPerDay !== undefined ? { alertsPerDay } : {}),
    ...extra,
  });
  const from = series.timeMs[0]! + DAY_MS;
  const decisions: number[] = [];
  const times: number[] = [];
  for (let r = 0; r < series.timeMs.length; r++) {
    const result = detector.push(series.values.subarray(r * cols, (r + 1) * cols), series.timeMs[r]!);
    if (series.timeMs[r]! < from) continue;
    decisions.push(result.isAnomaly ? 1 : 0);
    times.push(series.timeMs[r]!);
  }
  const m = operatorMetrics({ decisions, labels: new Uint8Array(decisions.length), times });
  return {
    name: series.name,
    seriesDays: m.seriesDays,
    episodes: m.falseEpisodes,
    flaggedRows: decisions.reduce((a, d) => a + d, 0),
    rows: decisions.length,
    metrics: cols,
    effectiveMetrics: detector.effectiveMetrics,
    effectiveGroups: detector.effectiveGroups,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      days: { type: 'string' },
      'alerts-per-day': { type: 'string' },
      ...DETECTOR_FLAGS,
    },
  });
  const extra = detectorFlags(values);
  const seeds = Number(values.seeds ?? 1);
  const days = Number(values.days ?? 7);
  const budget = values['alerts-per-day'] === undefined ? undefined : Number(values['alerts-per-day']);
  const totals = new Map<string, QuietResult>();
  const started = performance.now();
  for (let seed = 0; seed < seeds; seed++) {
    for (const series of quietCorpus(seed, days)) {
      const r = replayQuiet(series, seed, budget, extra);
      const t = totals.get(r.name) ?? {
        ...r,
        seriesDays: 0,
        episodes: 0,
        flaggedRows: 0,
        rows: 0,
        effectiveMetrics: 0,
        effectiveGroups: 0,
      };
      t.seriesDays += r.seriesDays;
      t.episodes += r.episodes;
      t.flaggedRows += r.flaggedRows;
      t.rows += r.rows;
      t.effectiveMetrics += r.effectiveMetrics / seeds;
      t.effectiveGroups += r.effectiveGroups / seeds;
      totals.set(r.name, t);
    }
  }
  const all = [...totals.values()];
  const pad = Math.max(...all.map((r) => r.name.length));
  console.log(`${'series'.padEnd(pad)}  episodes/day  flagged   metrics (effective)  groups (effective)`);
  for (const r of all)
    console.log(
      `${r.name.padEnd(pad)}  ${(r.episodes / r.seriesDays).toFixed(3).padStart(12)}  ${((100 * r.flaggedRows) / r.rows).toFixed(2).padStart(6)} %  ${String(r.metrics).padStart(7)} (${r.effectiveMetrics.toFixed(2)})  ${r.effectiveGroups.toFixed(2)}`,
    );
  const sum = (pick: (r: QuietResult) => number): number => all.reduce((a, r) => a + pick(r), 0);
  console.log(
    `quiet: ${all.length} series × ${seeds} seed(s), ${(sum((r) => r.episodes) / sum((r) => r.seriesDays)).toFixed(3)} alert episodes per series-day after the first day, ${((100 * sum((r) => r.flaggedRows)) / sum((r) => r.rows)).toFixed(2)} % of rows flagged (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();

/**
 * `npm run bench:quiet`: false alarms on data an operator would call normal. Every series of the
 * quiet corpus (quiet-corpus.ts) goes through the streaming detector with replay's defaults, one row
 * at a time; after the first day (the detector's warm-up and first models), every alert episode is
 * a false alarm. Prints, per series and overall: alert episodes per series-day and the share of
 * rows flagged. The goal (issue 18): at most 0.05 episodes per series-day.
 *
 * `--seeds N` runs N corpus seeds (default 1); `--days N` the days per series (default 7).
 */
import { parseArgs } from 'node:util';
import { defaultStreamFeatures, StreamingDetector } from '../engine/index.js';
import { quietCorpus, type QuietSeries } from './quiet-corpus.js';

const DAY_MS = 86_400_000;
/** Flagged rows less than this many rows apart are one alert episode. */
const EPISODE_GAP = 10;
const SWEEP = [0.3, 0.35, 0.4, 0.45];

export interface QuietResult {
  name: string;
  days: number;
  episodes: number;
  flaggedRows: number;
  rows: number;
}

/** Replays one series; counts alert episodes and flagged rows after its first day. */
export function replayQuiet(series: QuietSeries, seed = 0): QuietResult {
  const cols = series.fields.length;
  const detector = new StreamingDetector({
    features: defaultStreamFeatures(series.fields),
    seed,
    ...(JSON.parse(process.env.OPTS ?? '{}') as object),
  });
  const from = series.timeMs[0]! + DAY_MS;
  let episodes = 0;
  let flaggedRows = 0;
  let rows = 0;
  let lastFlag = -Infinity;
  const sweepLast = SWEEP.map(() => -Infinity);
  const sweepEpisodes = SWEEP.map(() => 0);
  for (let r = 0; r < series.timeMs.length; r++) {
    const result = detector.push(series.values.subarray(r * cols, (r + 1) * cols), series.timeMs[r]!);
    if (series.timeMs[r]! < from) continue;
    rows++;
    for (const [i, th] of SWEEP.entries()) {
      if (result.score <= th) continue;
      if (r - sweepLast[i]! >= EPISODE_GAP) sweepEpisodes[i]!++;
      sweepLast[i] = r;
    }
    if (!result.isAnomaly) continue;
    flaggedRows++;
    if (r - lastFlag >= EPISODE_GAP) episodes++;
    lastFlag = r;
  }
  const days = (series.timeMs[series.timeMs.length - 1]! - from) / DAY_MS;
  console.log(
    `  ${series.name}: ${SWEEP.map((th, i) => `@${th} ${(sweepEpisodes[i]! / days).toFixed(2)}`).join(' ')}`,
  );
  return { name: series.name, days, episodes, flaggedRows, rows };
}

function main(): void {
  const { values } = parseArgs({ options: { seeds: { type: 'string' }, days: { type: 'string' } } });
  const seeds = Number(values.seeds ?? 1);
  const days = Number(values.days ?? 7);
  const totals = new Map<string, QuietResult>();
  const started = performance.now();
  for (let seed = 0; seed < seeds; seed++) {
    for (const series of quietCorpus(seed, days)) {
      const r = replayQuiet(series, seed);
      const t = totals.get(r.name) ?? { name: r.name, days: 0, episodes: 0, flaggedRows: 0, rows: 0 };
      t.days += r.days;
      t.episodes += r.episodes;
      t.flaggedRows += r.flaggedRows;
      t.rows += r.rows;
      totals.set(r.name, t);
    }
  }
  const all = [...totals.values()];
  const pad = Math.max(...all.map((r) => r.name.length));
  console.log(`${'series'.padEnd(pad)}  episodes/day  flagged`);
  for (const r of all)
    console.log(
      `${r.name.padEnd(pad)}  ${(r.episodes / r.days).toFixed(3).padStart(12)}  ${((100 * r.flaggedRows) / r.rows).toFixed(2).padStart(6)} %`,
    );
  const sum = (pick: (r: QuietResult) => number): number => all.reduce((a, r) => a + pick(r), 0);
  console.log(
    `quiet: ${all.length} series × ${seeds} seed(s), ${(sum((r) => r.episodes) / sum((r) => r.days)).toFixed(3)} alert episodes per series-day, ${((100 * sum((r) => r.flaggedRows)) / sum((r) => r.rows)).toFixed(2)} % of rows flagged (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();

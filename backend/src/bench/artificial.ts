/**
 * `npm run bench:artificial`: the stream's own decisions on artificial series in the style of the
 * Numenta Anomaly Benchmark's artificialWithAnomaly files (two weeks of 5-minute data, a daily
 * cycle, one labelled anomaly each: a jump up, a jump down, a flat stretch where the cycle stops,
 * a cycle whose amplitude changes, a burst of spikes, a level shift in noise). Prints per series
 * the incident found and its delay, and the NAB-style score over all of them at the detector's
 * own decisions and at its best threshold: the gap is what the default decision leaves behind.
 * Options: `--seed N` the detector's seed (default 0; the series stay the same), `--alerts-per-day X`,
 * `--metric-forests …`, `--budget-split even|union`, `--whole-forest off|trees,samples` (see options.ts).
 */
import { parseArgs } from 'node:util';
import {
  defaultStreamFeatures,
  nabBestThreshold,
  nabScore,
  operatorMetrics,
  Random,
  StreamingDetector,
} from '../engine/index.js';
import { DETECTOR_FLAGS, detectorFlags } from './options.js';

const ROWS = 4032;
const STEP_MS = 300_000;
const START_MS = Date.UTC(2014, 3, 1);

interface Series {
  name: string;
  values: number[];
  labels: number[];
}

/** The six series, seeded. */
export function artificialSeries(seed = 5): Series[] {
  const rng = new Random(seed);
  const daily = (i: number): number => Math.sin((2 * Math.PI * i) / 288);
  const make = (name: string, f: (i: number) => number, [a, b]: [number, number]): Series => ({
    name,
    values: Array.from({ length: ROWS }, (_, i) => f(i)),
    labels: Array.from({ length: ROWS }, (_, i) => (i >= a && i <= b ? 1 : 0)),
  });
  return [
    make(
      'daily-jumps-up',
      (i) => 40 + 20 * daily(i) + 2 * rng.normal() + (i >= 3000 && i < 3100 ? 25 : 0),
      [3000, 3100],
    ),
    make(
      'daily-jumps-down',
      (i) => 40 + 20 * daily(i) + 2 * rng.normal() - (i >= 2800 && i < 2900 ? 25 : 0),
      [2800, 2900],
    ),
    make(
      'daily-flat-middle',
      (i) => (i >= 2500 && i < 2788 ? 40 : 40 + 20 * daily(i) + 2 * rng.normal()),
      [2500, 2788],
    ),
    make(
      'daily-amplitude',
      (i) => 40 + 20 * daily(i) + 2 * rng.normal() + (i >= 3300 && i < 3400 ? 8 * daily(i) : 0),
      [3300, 3400],
    ),
    make(
      'spike-density',
      (i) => 20 + 3 * rng.normal() + (i >= 3500 && i < 3600 && i % 7 === 0 ? 40 : 0),
      [3500, 3600],
    ),
    make('noisy-level-shift', (i) => 50 + 5 * rng.normal() + (i >= 3200 ? 20 : 0), [3195, 3260]),
  ];
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'alerts-per-day': { type: 'string' },
      ...DETECTOR_FLAGS,
      seed: { type: 'string' },
    },
  });
  // Single series grow no forests over metrics (m = 1): the flag is here to show that nothing moves.
  const extra = detectorFlags(values);
  // The detector's seed (the series are the same whatever it is): one seed moves the score by several points.
  const seed = Number(values.seed ?? 0);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed ${values.seed}: expected an integer ≥ 0`);
  const budget = values['alerts-per-day'] === undefined ? undefined : Number(values['alerts-per-day']);
  const all = {
    scores: [] as number[],
    decisions: [] as number[],
    labels: [] as number[],
    series: [] as number[],
  };
  for (const [k, s] of artificialSeries().entries()) {
    const d = new StreamingDetector({
      features: defaultStreamFeatures(['value']),
      seed,
      ...(budget !== undefined ? { alertsPerDay: budget } : {}),
      ...extra,
    });
    const results = s.values.map((v, i) => d.push([v], START_MS + i * STEP_MS));
    const decisions = results.map((r) => (r.isAnomaly ? 1 : 0));
    const times = s.values.map((_, i) => START_MS + i * STEP_MS);
    const m = operatorMetrics({ decisions, labels: s.labels, times });
    console.log(
      `${s.name.padEnd(18)} found ${m.found}/${m.incidents}, delay ${m.found ? `${m.medianDelayRows} rows` : '–'}, false episodes ${m.falseEpisodes}`,
    );
    all.scores.push(...results.map((r) => r.score));
    all.decisions.push(...decisions);
    all.labels.push(...s.labels);
    all.series.push(...s.values.map(() => k));
  }
  const own = nabScore(all);
  const best = nabBestThreshold(all);
  console.log(
    `artificial: NAB-style score ${own.score.toFixed(1)} at the detector's decisions, ${best.score.toFixed(1)} at its best threshold (${best.threshold.toFixed(3)})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();

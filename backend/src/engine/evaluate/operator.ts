import { EngineError } from '../errors.js';
import { runsOf } from './metrics.js';

/**
 * Operator metrics: how a person on call meets the detector's decisions. PR-AUC ranks scores;
 * operators meet alerts (episodes of flagged rows), incidents found or missed, and how late.
 *
 * Every function takes one row per element: the detector's decision (1 flagged, 0 not), the label
 * (1 inside a labelled incident, 0 not), optionally the time in milliseconds, and optionally a
 * series id. Rows of one series keep their order in the arrays (they may be interleaved with other
 * series' rows); runs of labels, episodes and windows are found within each series, never across.
 */
export interface OperatorInput {
  decisions: ArrayLike<number | boolean>;
  labels: ArrayLike<number>;
  /** Milliseconds since any epoch; needed for delays in time and for false episodes per series-day. */
  times?: ArrayLike<number>;
  /** Which series each row belongs to; one series when absent. */
  series?: ArrayLike<string | number>;
}

const DAY_MS = 86_400_000;

/** The default episode gap: flags fewer than this many rows apart are one alert episode. */
export const EPISODE_GAP = 10;

function checkLengths(n: number, parts: Record<string, ArrayLike<unknown> | undefined>): void {
  if (n === 0) throw new EngineError('EMPTY_DATA', 'no rows: nothing to evaluate');
  for (const [name, a] of Object.entries(parts)) {
    if (a !== undefined && a.length !== n) {
      throw new EngineError('FEATURE_MISMATCH', `${a.length} ${name} for ${n} labels`);
    }
  }
}

/** Row indices of each series, series in order of first appearance, rows in array order. */
export function seriesRows(n: number, series?: ArrayLike<string | number>): number[][] {
  if (!series) return [Array.from({ length: n }, (_, i) => i)];
  const groups = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = series[i]!;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  return [...groups.values()];
}

function pick<T>(a: ArrayLike<T>, rows: number[]): T[] {
  return rows.map((r) => a[r]!);
}

/**
 * Alert episodes: flagged rows fewer than `gap` rows apart belong to one episode, as an alert that
 * stays open through short quiet spells. Returned as [first flagged row, last flagged row].
 */
export function episodesOf(flags: ArrayLike<number | boolean>, gap = EPISODE_GAP): Array<[number, number]> {
  if (!(Number.isInteger(gap) && gap >= 1)) {
    throw new EngineError('BAD_OPTION', `episode gap must be a whole number of rows ≥ 1, got ${gap}`, {
      option: 'episodeGap',
    });
  }
  const episodes: Array<[number, number]> = [];
  let last = -Infinity;
  for (let i = 0; i < flags.length; i++) {
    if (!flags[i]) continue;
    if (i - last < gap) episodes[episodes.length - 1]![1] = i;
    else episodes.push([i, i]);
    last = i;
  }
  return episodes;
}

function median(sorted: number[]): number {
  if (sorted.length === 0) return Number.NaN;
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : Number.NaN;
}

export interface IncidentOutcome {
  /** Index of the series (order of first appearance) and the incident's first/last row in the input arrays. */
  series: number;
  start: number;
  end: number;
  found: boolean;
  /** Rows of the series from the incident's first row to its first flagged row (found incidents only). */
  delayRows?: number;
  /** The same delay in milliseconds, when times are given. */
  delayMs?: number;
}

export interface OperatorMetrics {
  series: number;
  incidents: number;
  found: number;
  /** found / incidents; NaN without incidents. */
  eventRecall: number;
  episodes: number;
  /** Episodes whose span [first flag, last flag] overlaps a labelled incident. */
  trueEpisodes: number;
  falseEpisodes: number;
  /** trueEpisodes / episodes; NaN when nothing was flagged. */
  eventPrecision: number;
  medianDelayRows: number;
  meanDelayRows: number;
  /** NaN without times. */
  medianDelayMs: number;
  meanDelayMs: number;
  /** Σ over series of (latest time − earliest time) / 1 day; NaN without times. */
  seriesDays: number;
  /** falseEpisodes / seriesDays; NaN without times or when every series spans no time. */
  falseEpisodesPerSeriesDay: number;
  outcomes: IncidentOutcome[];
}

/**
 * Incidents, alert episodes and delays at the detector's own decisions, within each series:
 *
 * - an incident is a run of rows labelled 1; it is *found* when at least one of its rows is
 *   flagged. Event recall = found / incidents.
 * - an episode is a run of flags with gaps of fewer than `episodeGap` rows (default 10, see
 *   {@link episodesOf}); it is *true* when its span [first flag, last flag] overlaps an incident,
 *   else *false*. Event precision = true episodes / episodes: the share of alerts worth waking for.
 * - the delay of a found incident is from its first row to its first flagged row, in rows of its
 *   series and in time; reported as median (mean of the middle two for an even count) and mean.
 * - false episodes per series-day = false episodes / Σₛ (max tₛ − min tₛ) / 86 400 000 ms: how many
 *   false alerts one metric stream raises per day, comparable across series of any length.
 */
export function operatorMetrics(
  input: OperatorInput,
  options: { episodeGap?: number } = {},
): OperatorMetrics {
  const { decisions, labels, times, series } = input;
  const n = labels.length;
  checkLengths(n, { decisions, times, series });
  const gap = options.episodeGap ?? EPISODE_GAP;
  const outcomes: IncidentOutcome[] = [];
  let episodes = 0;
  let trueEpisodes = 0;
  let seriesMs = 0;
  const groups = seriesRows(n, series);
  groups.forEach((rows, s) => {
    const f = pick(decisions, rows);
    const l = pick(labels, rows);
    const incidents = runsOf(l);
    for (const [start, end] of incidents) {
      let first = -1;
      for (let i = start; i <= end && first < 0; i++) if (f[i]) first = i;
      const outcome: IncidentOutcome = { series: s, start: rows[start]!, end: rows[end]!, found: first >= 0 };
      if (first >= 0) {
        outcome.delayRows = first - start;
        if (times) outcome.delayMs = times[rows[first]!]! - times[rows[start]!]!;
      }
      outcomes.push(outcome);
    }
    // Prefix counts of labelled rows make "does [a, b] overlap an incident" O(1).
    const labelledBefore = new Int32Array(l.length + 1);
    for (let i = 0; i < l.length; i++) labelledBefore[i + 1] = labelledBefore[i]! + (l[i] ? 1 : 0);
    for (const [a, b] of episodesOf(f, gap)) {
      episodes++;
      if (labelledBefore[b + 1]! - labelledBefore[a]! > 0) trueEpisodes++;
    }
    if (times) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const r of rows) {
        const t = times[r]!;
        if (Number.isFinite(t)) {
          lo = Math.min(lo, t);
          hi = Math.max(hi, t);
        }
      }
      if (hi > lo) seriesMs += hi - lo;
    }
  });
  const found = outcomes.filter((o) => o.found);
  const delayRows = found.map((o) => o.delayRows!).sort((a, b) => a - b);
  const delayMs = times ? found.map((o) => o.delayMs!).sort((a, b) => a - b) : [];
  const seriesDays = times ? seriesMs / DAY_MS : Number.NaN;
  const falseEpisodes = episodes - trueEpisodes;
  return {
    series: groups.length,
    incidents: outcomes.length,
    found: found.length,
    eventRecall: outcomes.length ? found.length / outcomes.length : Number.NaN,
    episodes,
    trueEpisodes,
    falseEpisodes,
    eventPrecision: episodes ? trueEpisodes / episodes : Number.NaN,
    medianDelayRows: median(delayRows),
    meanDelayRows: mean(delayRows),
    medianDelayMs: median(delayMs),
    meanDelayMs: mean(delayMs),
    seriesDays,
    falseEpisodesPerSeriesDay: seriesDays > 0 ? falseEpisodes / seriesDays : Number.NaN,
    outcomes,
  };
}

// ---------------------------------------------------------------------------------------------
// The windowed score in the style of the Numenta Anomaly Benchmark (NAB)

/** Weights of a NAB application profile: reward of an earliest detection, cost of a false row, cost of a missed window. */
export interface NabProfile {
  truePositive: number;
  falsePositive: number;
  falseNegative: number;
}

/** NAB's "standard" profile: A_TP = 1, A_FP = −0.11, A_FN = −1. */
export const NAB_STANDARD: NabProfile = { truePositive: 1, falsePositive: -0.11, falseNegative: -1 };

export interface NabOptions {
  profile?: NabProfile;
  /** Total window length as a share of a series' rows, divided among its incidents (NAB: 0.1). */
  windowFraction?: number;
  /** Leading share of each series' rows that is not scored (NAB: 0.15) … */
  probationFraction?: number;
  /** … but at most this many rows (NAB: 0.15 × 5000 = 750). */
  probationMaxRows?: number;
}

export interface NabScore {
  /** 100 · (raw − null) / (perfect − null): 0 for the detector that flags nothing, 100 for the perfect one; NaN without windows. */
  score: number;
  raw: number;
  /** The raw score of flagging nothing: A_FN · windows. */
  nullRaw: number;
  /** The raw score of flagging exactly the first row of every window: A_TP · windows. */
  perfectRaw: number;
  windows: number;
  /** Windows with at least one flagged scored row. */
  detected: number;
  /** Flagged scored rows outside every window: NAB charges each of them. */
  falsePositiveRows: number;
}

export interface NabThresholdScore extends NabScore {
  /** Rows are flagged when score ≥ threshold; +Infinity when flagging nothing scores best. */
  threshold: number;
}

/** 2·sigmoid(−5x) − 1 = tanh(−2.5x): +0.987 at x = −1, 0 at x = 0, −0.987 at x = 1; NAB clamps x ≥ 3 to −1. */
function scaledSigmoid(x: number): number {
  return x >= 3 ? -1 : Math.tanh(-2.5 * x);
}

/**
 * Per-row NAB weights, fixed by the labels alone: `window[i]` is the global window index of row i,
 * -1 outside every window, -2 in the probationary period (not scored); `weight[i]` is the reward if
 * row i is the first detection of its window, or the (negative) cost if it is flagged outside.
 */
interface NabPlan {
  window: Int32Array;
  weight: Float64Array;
  windows: number;
  profile: NabProfile;
}

function checkFraction(value: number, name: string, max: number): void {
  if (!(value >= 0 && value <= max)) {
    throw new EngineError('BAD_OPTION', `${name} must be between 0 and ${max}, got ${value}`, {
      option: name,
    });
  }
}

/**
 * NAB windows of one series of `len` rows, in its row numbers: each incident [s, e] widened to
 * [s − ⌊w/2⌋, e + ⌊w/2⌋] with w = ⌊windowFraction·len / k⌋ for k incidents, clipped to the series;
 * overlapping windows merge.
 */
function windowLimits(
  incidents: Array<[number, number]>,
  len: number,
  windowFraction: number,
): Array<[number, number]> {
  const half = incidents.length ? Math.floor(Math.floor((windowFraction * len) / incidents.length) / 2) : 0;
  const limits: Array<[number, number]> = [];
  for (const [s, e] of incidents) {
    const a = Math.max(0, s - half);
    const b = Math.min(len - 1, e + half);
    const last = limits[limits.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else limits.push([a, b]);
  }
  return limits;
}

/**
 * The NAB-style score's windows, for plots and reports: per series (index in order of first
 * appearance), the window's first and last row as indices into the input arrays. The probationary
 * period is not applied here.
 */
export function nabWindows(
  labels: ArrayLike<number>,
  series?: ArrayLike<string | number>,
  options: Pick<NabOptions, 'windowFraction'> = {},
): Array<{ series: number; start: number; end: number }> {
  const windowFraction = options.windowFraction ?? 0.1;
  checkFraction(windowFraction, 'windowFraction', 1);
  checkLengths(labels.length, { series });
  return seriesRows(labels.length, series).flatMap((rows, k) =>
    windowLimits(runsOf(pick(labels, rows)), rows.length, windowFraction).map(([a, b]) => ({
      series: k,
      start: rows[a]!,
      end: rows[b]!,
    })),
  );
}

function planNab(
  labels: ArrayLike<number>,
  series: ArrayLike<string | number> | undefined,
  options: NabOptions,
): NabPlan {
  const profile = options.profile ?? NAB_STANDARD;
  const windowFraction = options.windowFraction ?? 0.1;
  const probationFraction = options.probationFraction ?? 0.15;
  const probationMaxRows = options.probationMaxRows ?? 750;
  checkFraction(windowFraction, 'windowFraction', 1);
  checkFraction(probationFraction, 'probationFraction', 1);
  if (!(probationMaxRows >= 0)) {
    throw new EngineError('BAD_OPTION', `probationMaxRows must be ≥ 0, got ${probationMaxRows}`, {
      option: 'probationMaxRows',
    });
  }
  if (!(profile.truePositive > 0 && profile.falsePositive <= 0 && profile.falseNegative < 0)) {
    throw new EngineError('BAD_OPTION', 'NAB profile: need A_TP > 0, A_FP ≤ 0 and A_FN < 0', {
      option: 'profile',
    });
  }
  const n = labels.length;
  const window = new Int32Array(n);
  const weight = new Float64Array(n);
  const maxReward = scaledSigmoid(-1);
  let windows = 0;
  for (const rows of seriesRows(n, series)) {
    const len = rows.length;
    const limits = windowLimits(runsOf(pick(labels, rows)), len, windowFraction);
    const probation = Math.min(Math.floor(probationFraction * len), probationMaxRows);
    let w = 0;
    let prevRight = -1;
    let prevWidth = 0;
    for (let i = 0; i < len; i++) {
      const row = rows[i]!;
      while (w < limits.length && limits[w]![1] < i) {
        prevRight = limits[w]![1];
        prevWidth = limits[w]![1] - limits[w]![0] + 1;
        w++;
      }
      const lim = limits[w];
      const inside = lim !== undefined && lim[0] <= i;
      if (i < probation) {
        window[row] = -2;
      } else if (inside) {
        // A window counts once one of its rows is scored; ids are global and dense.
        if (i === probation || i === lim[0]) windows++;
        window[row] = windows - 1;
        const width = lim[1] - lim[0] + 1;
        weight[row] = (profile.truePositive * scaledSigmoid(-(lim[1] - i + 1) / width)) / maxReward;
      } else {
        window[row] = -1;
        const past = prevRight < 0 || prevWidth <= 1 ? Infinity : (i - prevRight) / (prevWidth - 1);
        weight[row] = -profile.falsePositive * scaledSigmoid(past);
      }
    }
  }
  return { window, weight, windows, profile };
}

function normalised(raw: number, plan: NabPlan, detected: number, falsePositiveRows: number): NabScore {
  const nullRaw = plan.profile.falseNegative * plan.windows;
  const perfectRaw = plan.profile.truePositive * plan.windows;
  return {
    score: plan.windows ? (100 * (raw - nullRaw)) / (perfectRaw - nullRaw) : Number.NaN,
    raw,
    nullRaw,
    perfectRaw,
    windows: plan.windows,
    detected,
    falsePositiveRows,
  };
}

/**
 * The windowed score of the Numenta Anomaly Benchmark (Lavin & Ahmad 2015; `nab/sweeper.py`) at
 * the given decisions, over every series with the same decision rule.
 *
 * Per series of n rows with k incidents (runs of label 1): window length w = ⌊0.1·n / k⌋; each
 * incident [s, e] becomes the window [s − ⌊w/2⌋, e + ⌊w/2⌋] (clipped; overlapping windows merge),
 * so a point incident gets NAB's window centred on it. The first p = min(⌊0.15·n⌋, 750) rows are a
 * probationary period and are not scored (a window is scored if any of its rows is).
 *
 * - A window [a, b] of width W = b − a + 1 whose earliest flagged row is i earns
 *   A_TP · σ̃(−(b − i + 1)/W) / σ̃(−1), with σ̃(x) = 2/(1 + e^{5x}) − 1 = tanh(−2.5x): exactly A_TP
 *   when the first row of the window is flagged, falling towards 0 at its end. Later flags in the
 *   same window earn nothing more. A window with no flag costs A_FN.
 * - Each flagged row outside every window costs −A_FP · σ̃(x) (A_FP < 0), where x = (i − b′)/(W′ − 1)
 *   for the preceding window [a′, b′] of width W′: a flag just after a window costs little, one
 *   three window-widths past it (or before any window) costs A_FP in full.
 *
 * raw = Σ windows + Σ false rows; the null detector scores A_FN·K and the perfect one A_TP·K for K
 * scored windows, and score = 100·(raw − null)/(perfect − null). It can be negative: false rows are
 * charged without limit.
 */
export function nabScore(
  input: {
    decisions: ArrayLike<number | boolean>;
    labels: ArrayLike<number>;
    series?: ArrayLike<string | number>;
  },
  options: NabOptions = {},
): NabScore {
  const { decisions, labels, series } = input;
  checkLengths(labels.length, { decisions, series });
  const plan = planNab(labels, series, options);
  const best = new Float64Array(plan.windows).fill(Number.NaN);
  let fp = 0;
  let falsePositiveRows = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!decisions[i]) continue;
    const w = plan.window[i]!;
    if (w >= 0) {
      if (!(best[w]! >= plan.weight[i]!)) best[w] = plan.weight[i]!;
    } else if (w === -1) {
      fp += plan.weight[i]!;
      falsePositiveRows++;
    }
  }
  let raw = fp;
  let detected = 0;
  for (const b of best) {
    if (Number.isNaN(b)) raw += plan.profile.falseNegative;
    else {
      raw += b;
      detected++;
    }
  }
  return normalised(raw, plan, detected, falsePositiveRows);
}

/**
 * The NAB score at every threshold over the scores (flag when score ≥ threshold, one threshold
 * for all series), and the best of them, as NAB reports each detector at its own best threshold.
 * Exact over all distinct scores: rows are taken from the highest score down and the raw score is
 * updated as each row is flagged (O(n log n)). Ties favour the higher threshold (fewer flags).
 */
export function nabBestThreshold(
  input: { scores: ArrayLike<number>; labels: ArrayLike<number>; series?: ArrayLike<string | number> },
  options: NabOptions = {},
): NabThresholdScore {
  const { scores, labels, series } = input;
  checkLengths(labels.length, { scores, series });
  const plan = planNab(labels, series, options);
  const order: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (plan.window[i] === -2) continue;
    if (Number.isNaN(scores[i]!)) {
      throw new EngineError('NON_FINITE', `score of row ${i} is not a number`, { row: i });
    }
    order.push(i);
  }
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const best = new Float64Array(plan.windows).fill(Number.NaN);
  let raw = plan.profile.falseNegative * plan.windows;
  let detected = 0;
  let falsePositiveRows = 0;
  let top = { ...normalised(raw, plan, 0, 0), threshold: Number.POSITIVE_INFINITY };
  for (let k = 0; k < order.length;) {
    const threshold = scores[order[k]!]!;
    for (; k < order.length && scores[order[k]!] === threshold; k++) {
      const i = order[k]!;
      const w = plan.window[i]!;
      const v = plan.weight[i]!;
      if (w < 0) {
        raw += v;
        falsePositiveRows++;
      } else if (Number.isNaN(best[w]!)) {
        raw += v - plan.profile.falseNegative;
        best[w] = v;
        detected++;
      } else if (v > best[w]!) {
        raw += v - best[w]!;
        best[w] = v;
      }
    }
    if (raw > top.raw) top = { ...normalised(raw, plan, detected, falsePositiveRows), threshold };
  }
  return top;
}

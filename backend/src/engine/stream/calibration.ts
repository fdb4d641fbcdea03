import { EngineError } from '../errors.js';

/**
 * Turns a stream's forest scores into scores that mean the same on every series: a tail
 * probability among the scores the detector itself gave to recent normal rows, put on a scale
 * where 0.5 is the alert budget.
 *
 * Why the detector's own live scores: a forest's scores on the rows it was trained on are lower
 * than on rows it meets later (a trend, a cycle it only half saw, model age), by an amount that
 * differs from series to series. Judging a score against the scores of the rows that followed
 * training measures exactly that, so a disk that fills steadily raises its own baseline instead of
 * alerting on every row (the idea of SPOT, Siffer et al., KDD 2017).
 *
 * The tail is fitted on y = −ln(h̄/c(ψ)) = −ln(−log₂ s), the log of how many times shorter than
 * average the row's isolation path is (s = 2^(−h̄/c)): a score is bounded by 1 and its tail is not
 * exponential, while y runs to infinity as a row is isolated at once, so every score can be
 * judged. With the last n normal scores sorted, u is their (1 − q₀) quantile (q₀ = 2 %, at least 16
 * scores) and the k values above u are modelled as exponential excesses (a generalised Pareto tail
 * of shape 0, whose maximum-likelihood scale is the mean excess β):
 *
 *     p(y) = #{y_i ≥ y} / n                    for y ≤ u
 *     p(y) = q₀ · exp(−(y − u) / β)            for y > u
 *
 * The alert budget b (expected alerts per series-day on normal data) gives the per-row probability
 * p* = b / (rows per day), the rows per day coming from the median interval between rows. The
 * calibrated score is
 *
 *     c = L / (L + L*),   L = −ln p(s),   L* = −ln p*
 *
 * so c is 0 for the most ordinary score, exactly 0.5 at the budget (the threshold), tends to 1 as
 * the score becomes impossibly rare, and is monotone in s for one fit. A shape of 0 overstates how
 * often extreme scores occur for scores bounded by 1 (their true tail is lighter), which errs on
 * the side of fewer alerts.
 */
export interface CalibrationState {
  /** Recent normal scores as tail values y, oldest first. */
  scores: number[];
  /** The fit in force (a restored detector judges exactly as the one that stopped). */
  fit: TailFit;
  sinceFit: number;
}

/** The scores' quantiles at 0, 1/256, …, 1; the tail's start u, the share above it q₀, its scale β; −ln p*. */
interface TailFit {
  quantiles: number[];
  u: number;
  q0: number;
  beta: number;
  budgetLog: number;
}

/** Share of the scores above the tail's start. */
const TAIL_SHARE = 0.02;
/** Fewest scores the exponential tail is fitted to. */
const MIN_EXCEEDANCES = 16;
/** Interval assumed before two timed rows were seen: one a minute, Telegraf's default. */
const DEFAULT_INTERVAL_MS = 60_000;
/** Intervals kept for the median. */
const INTERVALS_KEPT = 255;
/** Refit after this many new scores: often enough to follow, rarely enough to cost nothing. */
const REFIT_EVERY = 64;
/** |y| beyond this is as far as a score can go (a path 10^-13 of the average). */
const TAIL_LIMIT = 30;
/** Steps of the quantile grid that stands for the bulk of the scores. */
const GRID = 256;
const DAY_MS = 86_400_000;

/** How many rows a day a stream brings: from the median of the recent intervals between rows. */
export class RowRate {
  private intervals: number[];
  /** The median while the intervals' multiset is unchanged (NaN: to compute). */
  private median = Number.NaN;

  constructor(intervalsMs: number[] = []) {
    this.intervals = intervalsMs.slice(-INTERVALS_KEPT);
  }

  /** The time since the previous row; ignored when not positive (a repeated or backward time). */
  observe(ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    this.intervals.push(ms);
    // Regular rows replace an interval by an equal one: the median stands.
    const gone = this.intervals.length > INTERVALS_KEPT ? this.intervals.shift() : undefined;
    if (gone !== ms) this.median = Number.NaN;
  }

  get rowsPerDay(): number {
    if (this.intervals.length === 0) return DAY_MS / DEFAULT_INTERVAL_MS;
    if (Number.isNaN(this.median)) {
      // A typed array sorts numerically without a comparator call per step.
      const s = Float64Array.from(this.intervals).sort();
      this.median = s[s.length >> 1]!;
    }
    return DAY_MS / this.median;
  }

  snapshot(): number[] {
    return [...this.intervals];
  }
}

export class TailCalibration {
  private readonly scores: Float64Array;
  private count = 0;
  private next = 0;
  private sinceFit = 0;
  /**
   * The scores sorted as of the last refit, and what came and went since: a refit merges those in
   * one pass (a few hundred comparisons a row, where sorting the whole history cost thousands).
   * Null until the first refit (and after a restore): then it sorts.
   */
  private sorted: Float64Array | null = null;
  /** The other of two buffers the merge alternates between (the history is sorted 100 times a day). */
  private spare: Float64Array | null = null;
  private added: number[] = [];
  private evicted: number[] = [];
  private fit: TailFit = { quantiles: [], u: 1, q0: TAIL_SHARE, beta: 1, budgetLog: Math.log(1e6) };

  /** `alertsPerDay`: this calibration's share of the alert budget, spent at `rate`'s rows a day. */
  constructor(
    private readonly capacity: number,
    private alertsPerDay: number,
    private readonly rate: RowRate,
    state?: CalibrationState,
  ) {
    checkBudget(alertsPerDay);
    this.scores = new Float64Array(capacity);
    if (state) {
      for (const s of state.scores.slice(-capacity)) this.push(s);
      this.fit = state.fit;
      this.sinceFit = state.sinceFit;
    }
  }

  /**
   * A new share of the alert budget (the stream learns its unit, the effective number of metrics,
   * when it first trains): in force from the next refit, as a change of the row rate is.
   */
  setAlertsPerDay(alertsPerDay: number): void {
    checkBudget(alertsPerDay);
    this.alertsPerDay = alertsPerDay;
  }

  /** True once scores were seen: before that nothing can be judged. */
  get ready(): boolean {
    return this.count > 0;
  }

  /** A score of a row judged normal joins the history; the tail is refitted every few. */
  add(score: number): void {
    this.push(tailValue(score));
    if (++this.sinceFit >= REFIT_EVERY) this.refit();
  }

  /** Adds many scores at once (a first model's scores of its own training rows) and refits. */
  seed(scores: ArrayLike<number>): void {
    for (let i = 0; i < scores.length; i++) this.push(tailValue(scores[i]!));
    this.refit();
  }

  /** The tail probability of a score among the recent normal ones (see the class docstring). */
  tailProbability(score: number): number {
    const y = tailValue(score);
    const { quantiles: q, u, q0, beta } = this.fit;
    if (y > u) return q0 * Math.exp(-(y - u) / beta);
    if (q.length === 0 || y <= q[0]!) return 1;
    // The empirical distribution, interpolated on the grid: the last grid point below the score.
    let lo = 0;
    let hi = q.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (q[mid]! < y) lo = mid;
      else hi = mid;
    }
    const within = q[hi]! > q[lo]! ? (y - q[lo]!) / (q[hi]! - q[lo]!) : 1;
    const below = (lo + within) / GRID;
    return Math.max(1 - below, q0);
  }

  /** The calibrated score in [0, 1): 0.5 at the alert budget. */
  calibrate(score: number): number {
    const l = Math.max(0, -Math.log(this.tailProbability(score)));
    return l / (l + this.fit.budgetLog);
  }

  /** The forest score that calibrates to 0.5. */
  get rawThreshold(): number {
    const { u, q0, beta, budgetLog } = this.fit;
    return scoreOf(u + beta * Math.max(0, budgetLog + Math.log(q0)));
  }

  /** True when the next `add` refits: the budget set before it is the one the fit takes. */
  get refitsNext(): boolean {
    return this.sinceFit + 1 >= REFIT_EVERY;
  }

  /**
   * The history as tail values in ring order, not copied (read only; see union.ts): calibrations
   * that took the same rows since they began hold each row in the same slot.
   */
  history(): Float64Array {
    return this.scores.subarray(0, this.count);
  }

  snapshot(): CalibrationState {
    const out: number[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.scores[(start + i) % this.capacity]!);
    return { scores: out, fit: structuredClone(this.fit), sinceFit: this.sinceFit };
  }

  private push(score: number): void {
    if (this.sorted) {
      if (this.count === this.capacity) this.evicted.push(this.scores[this.next]!);
      this.added.push(score);
    }
    this.scores[this.next] = score;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The scores held, sorted: merged into the last refit's when few came since, else sorted anew. */
  private sortedScores(): Float64Array {
    const n = this.count;
    let sorted: Float64Array;
    if (this.sorted && this.added.length < this.capacity) {
      const spare = this.spare && this.spare.length >= n ? this.spare : new Float64Array(this.capacity);
      sorted = spare.subarray(0, n);
      mergeSorted(this.sorted, this.evicted, this.added, sorted);
    } else sorted = this.scores.slice(0, n).sort();
    // The buffer behind the old history is free now: the next merge writes there.
    this.spare = this.sorted ? new Float64Array(this.sorted.buffer) : null;
    this.sorted = sorted;
    this.added = [];
    this.evicted = [];
    return sorted;
  }

  private refit(): void {
    this.sinceFit = 0;
    const n = this.count;
    if (n === 0) return;
    const sorted = this.sortedScores();
    const k = Math.min(n, Math.max(MIN_EXCEEDANCES, Math.ceil(TAIL_SHARE * n)));
    const q0 = k / n;
    const u = sorted[n - k]!;
    let excess = 0;
    for (let i = n - k; i < n; i++) excess += sorted[i]! - u;
    const budget = Math.min(this.alertsPerDay / Math.max(this.rate.rowsPerDay, 1), q0 / 2);
    const quantiles = new Array<number>(GRID + 1);
    for (let j = 0; j <= GRID; j++) quantiles[j] = sorted[Math.round((j / GRID) * (n - 1))]!;
    this.fit = {
      quantiles,
      u,
      q0,
      // A flat history (every score equal) still needs a scale: a hundredth of a path's doubling.
      beta: Math.max(excess / k, 1e-2),
      budgetLog: -Math.log(budget),
    };
  }
}

function checkBudget(alertsPerDay: number): void {
  if (!(alertsPerDay > 0) || !Number.isFinite(alertsPerDay))
    throw new EngineError(
      'BAD_OPTION',
      `stream: alertsPerDay must be a positive number, got ${alertsPerDay}`,
      {
        option: 'alertsPerDay',
      },
    );
}

/**
 * The multiset `old` − `evicted` + `added`, sorted: `evicted` must be part of `old` (it is, when fewer
 * scores than the capacity came since `old` was sorted), and `out` of the resulting size.
 */
function mergeSorted(old: Float64Array, evicted: number[], added: number[], out: Float64Array): void {
  const gone = Float64Array.from(evicted).sort();
  const come = Float64Array.from(added).sort();
  let i = 0;
  let j = 0;
  let k = 0;
  let o = 0;
  while (i < old.length) {
    const v = old[i]!;
    if (j < gone.length && v === gone[j]) {
      i++;
      j++;
    } else if (k < come.length && come[k]! < v) out[o++] = come[k++]!;
    else {
      out[o++] = v;
      i++;
    }
  }
  while (k < come.length) out[o++] = come[k++]!;
}

/** y = −ln(−log₂ s): scores in (0, 1) to the whole line, 1 to +∞ (a row isolated at once). */
function tailValue(score: number): number {
  // Clamped: a score of 0 or 1 (impossible from a forest, possible from a caller) stays finite.
  if (!(score > 1e-300)) return -TAIL_LIMIT;
  if (score >= 1) return TAIL_LIMIT;
  return Math.max(-TAIL_LIMIT, Math.min(TAIL_LIMIT, -Math.log(-Math.log2(score))));
}

/** The inverse of tailValue. */
function scoreOf(y: number): number {
  return Math.pow(2, -Math.exp(-y));
}

export type Severity = 'none' | 'low' | 'medium' | 'high' | 'critical';

/**
 * How far over the threshold a calibrated score is, named as operators page on it. With
 * c = L / (L + L*), c/(1 − c) = L / L* is how many times as many orders of magnitude rarer than the
 * budget the row is: low up to 1.5 times (c < 0.6), medium up to 2.3 (0.7), high up to 4 (0.8).
 */
export function severityOf(score: number, threshold = 0.5): Severity {
  if (!(score > threshold)) return 'none';
  if (score < 0.6) return 'low';
  if (score < 0.7) return 'medium';
  if (score < 0.8) return 'high';
  return 'critical';
}

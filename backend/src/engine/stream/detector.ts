import { driftReport } from '../drift/report.js';
import { EngineError } from '../errors.js';
import { FeatureTransformer, type FeatureState } from '../features/transform.js';
import { featureList, type FeatureSpec } from '../features/spec.js';
import { IsolationForest, type OutOfRange } from '../forest/forest.js';
import { quantileSorted } from '../stats.js';
import { RowRate, severityOf, TailCalibration, type CalibrationState, type Severity } from './calibration.js';
import { YesterdayMemory, type YesterdayState } from './yesterday.js';
import { columnDistribution, explainCohorts, learntRanges, type RowExplanation } from './explain-row.js';
import { effectiveMetrics } from './budget.js';
import { effectiveGroups } from './union.js';
import { EPISODE_GAP } from '../evaluate/operator.js';
import { Random } from '../forest/random.js';

export interface StreamOptions {
  /** What the detector sees; see FeatureSpec. */
  features: FeatureSpec;
  /** Feature rows collected before the first model is trained. Default 512 (twice a tree's sample). */
  warmup?: number;
  /** Retrain after this many new rows. Default: the warm-up size. 0 = never. */
  retrainEvery?: number;
  /**
   * Every this many rows, the last rows are compared with the current model's training data by the
   * five drift tests; when their consensus says a feature drifted, the detector retrains at once
   * instead of waiting for the schedule. Default 512 (fewer rows make PSI and JS noisy); 0 = off.
   * A retrain restarts the count, so this only acts when `retrainEvery` is longer (or 0): with
   * both at 512 the schedule always comes first.
   */
  driftCheckEvery?: number;
  /** Rows kept for retraining (a sliding window). Default 8192. */
  window?: number;
  /**
   * Leave rows the current model finds anomalous on their own (their own score over the threshold,
   * before smoothing) out of the retraining window, so an incident is not learnt as normal.
   * Default true. When more than 5 × contamination of the rows since the last training (counted
   * over at least `warmup` rows) were flagged, this is no incident but a new normal (a deploy, a
   * migration), and flagged rows are kept so the next model learns it instead of flagging it for
   * ever.
   */
  excludeAnomalies?: boolean;
  /**
   * How many retrains' worth of trees score together: each forest group is a rolling forest of
   * `trees` trees in `ensemble` cohorts, each grown on the window of one retrain, and every retrain
   * replaces the oldest cohort. Default 6: one retrain's trees differ from the next's by chance,
   * and spreading the forest over a few smooths those jumps while staying recent (the six span the
   * last 3072 rows of retrains with the default schedule); an incident that lasts is learnt into
   * the forest a sixth at a time. The first training grows every cohort on the warm-up.
   * (Until issue 21, six whole forests of `trees` trees each scored every row: six times the tree
   * walks for scores that, measured on SMD and ASD, rank no better; docs/engine.md.)
   */
  ensemble?: number;
  /**
   * Grow separate forests for levels (values, lags, rolling z, time) and for changes (delta,
   * rate), and score a row by whichever finds it more anomalous. Default true. In one forest the
   * two kinds share the splits, so each dilutes the other: a level that is wrong for hours looks
   * normal on every change feature, a sudden jump within the normal range on every level. On SMD
   * and ASD this lifts the stream's PR-AUC over scikit-learn's from a geometric mean of 1.35× to
   * 1.52×, and from 7 to 8 of 10 machines (docs/pipeline.md), for twice the training and scoring
   * work. Without change features there is one forest either way.
   */
  separateChanges?: boolean;
  /** Trees per forest group (its rolling forest, all cohorts together). Default 100. */
  trees?: number;
  maxSamples?: number | 'auto';
  /**
   * How the forests score a value beyond anything their training window held (see ForestOptions).
   * Default 'isolate': a stream scores rows after training, and a value far beyond the window is
   * what it exists to catch, while 'clamp' (scikit-learn's way) scores it like the window's most
   * extreme row. On SMD and ASD this lifts the stream's PR-AUC over scikit-learn's from a geometric
   * mean of 1.51× to 1.86× (before smoothing), and single series from 7.9× to 10.8× the base rate.
   */
  outOfRange?: OutOfRange;
  /** Share of the training window expected to be anomalous; the threshold is that quantile. Default 0.01. */
  contamination?: number;
  /**
   * A row's reported score is the mean of the forest scores of the last `smoothing` rows, this one
   * included; the row is anomalous when that mean is over the threshold. One odd row is more often
   * noise than an event, the way an alert rule waits a few samples before it fires. Which rows are
   * learnt still goes by each row's own score, so a lone spike never becomes normal. Default 3
   * when the features see one row at a time (no shingle), 1 when a shingle already puts the last
   * rows into every vector. On SMD and ASD, 3 rows lift the 38-metric stream's PR-AUC over
   * scikit-learn's from a geometric mean of 1.86× to 2.08× (docs/pipeline.md); on single series
   * with a shingle they would lower PR-AUC over the base rate (10.8× to 9.7×).
   */
  smoothing?: number;
  /**
   * The alert budget: how many alerts a day one metric may raise on data that is normal. Scores
   * are calibrated against the detector's own recent scores so that the stream's normal rows cross
   * the threshold at this rate times its effective number of metrics (see budget.ts: independent
   * metrics count one each, metrics that move together count as about one), learnt from the
   * warm-up its first model trains on: what an operator watching each metric with a rule of its
   * own would hear. Default 0.05: one false alert per series in about three weeks, the rate
   * operators asked for on quiet data (issue 18's goal). Raise it to find milder incidents at the
   * cost of more alerts (docs/pipeline.md has the trade measured).
   */
  alertsPerDay?: number;
  /**
   * A small forest per metric beside the level and change forests (default false: off). A forest
   * over all metrics' features splits on a metric chosen at random at each node, so a path of about
   * eight splits rarely tests the few of 38 metrics an incident moves, and a clear deviation in
   * three of them scores as mildly unusual (subspace dilution). A metric's own forest sees only its
   * level and change features, so it cuts such a row off near the root. Each is calibrated as the
   * other groups are; a row alerts when any group finds it rare. The per-metric forests spend
   * `share` of the stream's alert budget together, each `share` of one metric's budget (the budget's
   * unit is the effective number of metrics, so the family's alerts come at `share` of the stream's
   * rate when its metrics move together as the unit assumes), or with `split: 'bonferroni'` the
   * family's share divided evenly over the metrics. Only streams of two or more metrics get them:
   * a single series' level and change forests already are its own. docs/pipeline.md has what it
   * measured.
   */
  metricForests?: MetricForests | false;
  /**
   * A third forest over every feature, levels and changes together, beside the level and change
   * forests, in streams of two or more metrics (default 42 trees of 128 rows; false: none). The
   * level and change forests each see half of a row: an incident that moves a few metrics a little
   * in level and in step is mildly unusual to both, and a forest that sees both halves at once can
   * isolate it sooner. It is calibrated as the other groups are and a row alerts when any group
   * finds it rare; its scores never decide which rows are learnt. It alerts on many of the rows the
   * other two do, so it pays for itself only with `budgetSplit: 'union'`, which counts the groups
   * that alert together as fewer. Single series have none: their level forest already sees their
   * only metric's every feature but the step. docs/pipeline.md has what it measured.
   */
  wholeForest?: { trees: number; samples: number } | false;
  /**
   * How the stream's budget is split between its forest groups. 'union' (the default): each
   * active group spends 1/G_eff of it, G_eff being how many groups alert independently, measured on
   * their histories of normal scores before every refit of the calibrations (see union.ts): groups
   * that alert on the same rows spend less of the budget together than the sum of their shares,
   * and this gives them back the difference. The metric forests' `share` and `split` then do not
   * apply. 'even': each of the G groups spends 1/G of it (Bonferroni), the per-metric forests
   * `share` of it together; what detectors stored before 'union' existed keep.
   */
  budgetSplit?: 'even' | 'union';
  seed?: number;
}

/** The per-metric forests' settings (see StreamOptions.metricForests). */
export interface MetricForests {
  /** Share of the stream's alert budget the per-metric forests spend together, in (0, 1). */
  share: number;
  /** Trees per metric's rolling forest, all cohorts together (at least one per cohort). */
  trees: number;
  /** Rows each tree is grown on. */
  samples: number;
  /** Each metric's budget: `share` of one metric's ('metric'), or the family's share over the metrics. */
  split: 'metric' | 'bonferroni';
  /**
   * A metric gets its own forest only when at least this share of the warm-up's rows hold distinct
   * values of it (0: every metric): a metric of a few states (a flag, a count of processes) has
   * scores of a few values too, whose tail cannot be fitted, and its own forest isolates each rare
   * state at once.
   */
  distinct: number;
  /**
   * Metrics per forest (default 1: each its own). More than one: the metrics are dealt at random
   * (seeded) into groups of this many, each group one forest over its metrics' features, a
   * feature-bagged alternative to one forest per metric.
   */
  subset?: number;
}

export interface StreamResult {
  /**
   * The calibrated score in [0, 1): how rare this row's forest score is among the scores of recent
   * normal rows, with 0.5 at the alert budget (see TailCalibration); the same on every series. 0
   * while warming up (no model yet, or the feature look-back not yet full).
   */
  score: number;
  /** The threshold `score` was judged against, on the same scale: 0.5 once scoring (0 while warming up). */
  threshold: number;
  /** The forest score (smoothed) before calibration, in (0, 1]; 0 while warming up. */
  forestScore: number;
  /** For anomalous rows, how far over the threshold (see severityOf); 'none' otherwise. */
  severity: Severity;
  /** Over the threshold, yet no alert: the same time yesterday was over it too, at least as high (see YesterdayMemory). */
  recurring?: boolean;
  isAnomaly: boolean;
  /**
   * For anomalous rows: the feature that pushed hardest towards anomalous (TreeSHAP), in the
   * forest group that scored the row.
   */
  topFeature?: string;
  /** Which model scored the row (0 = none yet). */
  modelVersion: number;
}

/** Everything a detector needs to continue where it stopped: JSON-safe (models as base64). */
export interface StreamSnapshot {
  format: 6;
  options: Required<StreamOptions>;
  features: FeatureState;
  /** Row-major feature rows of the retraining window, oldest first. */
  window: number[];
  /** The window's ring slot of its next row: which rows are the threshold's sample (see setThresholds). */
  windowNext: number;
  rowsSinceTraining: number;
  flaggedSinceTraining: number;
  modelVersion: number;
  /** Per forest group (levels, then changes), its cohorts of trees, oldest first (base64). */
  groups: string[][];
  /** Per forest group, its threshold (see ForestGroup). */
  thresholds: number[];
  /** The current model's training sample and the rows since, for the drift check. */
  driftReference: number[];
  recent: number[];
  driftRetrains: number;
  /** The last rows scored, oldest first, for smoothing and explaining: see ScoredRow. */
  lastScored: Array<{ own: number; groups: number[]; x: number[] }>;
  /** Per forest group, the calibration of its scores; and the intervals between rows. */
  calibration: CalibrationState[];
  /** The alert budget's unit: the effective number of metrics (1 until the first training). */
  budgetMetrics: number;
  intervalsMs: number[];
  yesterday: YesterdayState;
  /** The last row's time (null before any: JSON has no NaN). */
  lastTimeMs: number | null;
}

/**
 * What a stream sees when nobody says otherwise (replay's defaults): a level view and a change view,
 * which the detector scores with forests of their own. Levels: one column is judged with its own
 * recent values (a shingle of 8, as random cut forests see a series); several columns with each
 * other. Changes: each column's step since the last row, which shows what moved suddenly. Measured
 * in docs/pipeline.md with scikit-learn's scoring: deltas lift the multi-metric stream above
 * scikit-learn's PR-AUC on 8 of 10 SMD/ASD machines (2 without); on single metrics the shingle and
 * the delta together lift PR-AUC over the base rate 8.8× on ASD and 6.9× on SMD (the shingle alone:
 * 7.6× and 4.2×). With today's defaults: 10 of 10, and 12.4× and 8.8×.
 */
export function defaultStreamFeatures(fields: string[], shingle?: number): FeatureSpec {
  return { fields, shingle: shingle ?? (fields.length === 1 ? 8 : 1), delta: true };
}

/** Flagged share, as a multiple of contamination, above which flagged rows are a new normal, not incidents. */
const REGIME_CHANGE_FACTOR = 5;
/** Training rows kept as the drift reference: enough for the tests, small enough to snapshot. */
const DRIFT_REFERENCE_ROWS = 1024;
/** Rows pushMany takes at a time: their features first, then their scores model by model. */
const PUSH_CHUNK = 4096;
/** Seed offset between forest groups, so the change forests do not mirror the level forests' draws. */
const GROUP_SEED_STEP = 0x9e3779b1;
/**
 * Rows of the window the threshold is the quantile of (at most; an evenly spaced sample). The
 * threshold is the (1 − contamination) quantile, 0.99 by default: of 1024 rows, about ten lie above it,
 * enough that one retrain's threshold differs from the next by little next to what the window's
 * change moves it, while scoring the whole window (8192 rows) cost more than scoring live rows.
 */
const THRESHOLD_SAMPLE = 1024;

/** One of the last rows scored: its own score (before smoothing), the group that gave it, its features. */
interface ScoredRow {
  own: number;
  /** Each group's own score. */
  groups: number[];
  x: Float64Array;
  /** Its top feature once explained, and by which model version (explaining is the costly part). */
  explained?: { version: number; group: number; feature: string };
}

/**
 * Forests over one kind of feature: the columns they see and their rolling forest, `ensemble`
 * cohorts of trees grown on successive retrains' windows, oldest first. The group scores a row as
 * one isolation forest of all their trees, s = 2^(−Σ_m Σ_{t∈m} h_t / c_m / T), T = Σ_m |m|
 * (c_m = c(ψ) of the cohort's sample size: the same for all once the window holds 256 rows).
 */
interface ForestGroup {
  columns: Int32Array;
  /** Trees of the rolling forest when every cohort is grown, and rows each tree is grown on. */
  size: number;
  maxSamples: number | 'auto';
  /**
   * A forest beside the level and change forests (a whole forest or one over a few metrics, see
   * StreamOptions): its scores go to its calibration only, never deciding which rows are learnt.
   */
  beside: boolean;
  /** One metric's forest or a few metrics' (StreamOptions.metricForests). */
  metric: boolean;
  /**
   * False for a metric's forest the first training left out (see MetricForests.distinct): it has no
   * cohorts, scores nothing and spends no budget. A restored detector knows it by its empty cohorts.
   */
  active: boolean;
  cohorts: IsolationForest[];
  /** Trees of the cohorts together. */
  trees: number;
  /**
   * The (1 − contamination) quantile of the group's scores on the sample of its training window
   * (see setThresholds): the rows over it stay out of training, and it puts the groups on one scale.
   */
  threshold: number;
  /** Scratch: this group's columns of the row being scored. */
  row: Float64Array;
  /**
   * Scratch: this group's columns of many rows (a retrain's window, a batch to score), kept from
   * one use to the next: megabytes a retrain on a wide machine, which the collector otherwise
   * reclaims every few hundred rows. Forests keep no reference to their training data.
   */
  rows: Float64Array;
}

const DEFAULTS = {
  ensemble: 6,
  separateChanges: true,
  driftCheckEvery: 512,
  warmup: 512,
  window: 8192,
  excludeAnomalies: true,
  trees: 100,
  maxSamples: 'auto',
  outOfRange: 'isolate',
  contamination: 0.01,
  alertsPerDay: 0.05,
  metricForests: false,
  wholeForest: { trees: 42, samples: 128 },
  budgetSplit: 'union',
  seed: 0,
} as const;
/**
 * What a snapshot's options leave out means what the detector ran with before the option existed:
 * no forest beside the level and change forests, the budget split evenly. A stored detector
 * continues as it was after an upgrade; a new one gets today's defaults.
 */
const BEFORE_OPTIONS: Pick<StreamOptions, 'metricForests' | 'wholeForest' | 'budgetSplit'> = {
  metricForests: false,
  wholeForest: false,
  budgetSplit: 'even',
};
/** The threshold of a calibrated score. */
const CALIBRATED_THRESHOLD = 0.5;

function resolve(options: StreamOptions): Required<StreamOptions> {
  const warmup = options.warmup ?? DEFAULTS.warmup;
  const positiveInt = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min)
      throw new EngineError('BAD_OPTION', `stream: ${name} must be an integer ≥ ${min}, got ${v}`, {
        option: name,
      });
  };
  positiveInt('warmup', warmup, 2);
  const retrainEvery = options.retrainEvery ?? warmup;
  positiveInt('retrainEvery', retrainEvery, 0);
  const ensemble = options.ensemble ?? DEFAULTS.ensemble;
  positiveInt('ensemble', ensemble, 1);
  const driftCheckEvery = options.driftCheckEvery ?? DEFAULTS.driftCheckEvery;
  positiveInt('driftCheckEvery', driftCheckEvery, 0);
  const smoothing = options.smoothing ?? ((options.features.shingle ?? 1) > 1 ? 1 : 3);
  positiveInt('smoothing', smoothing, 1);
  const window = options.window ?? Math.max(DEFAULTS.window, warmup);
  positiveInt('window', window, warmup);
  const contamination = options.contamination ?? DEFAULTS.contamination;
  if (!(contamination > 0 && contamination <= 0.5)) {
    throw new EngineError('BAD_OPTION', `stream: contamination must be in (0, 0.5], got ${contamination}`, {
      option: 'contamination',
    });
  }
  const metricForests = options.metricForests ?? DEFAULTS.metricForests;
  if (metricForests) {
    const { share, trees, samples, split, distinct } = metricForests;
    if (
      !(share > 0 && share < 1) ||
      !Number.isInteger(trees) ||
      trees < 1 ||
      !Number.isInteger(samples) ||
      samples < 2 ||
      (split !== 'metric' && split !== 'bonferroni') ||
      !(distinct >= 0 && distinct <= 1) ||
      !(
        metricForests.subset === undefined ||
        (Number.isInteger(metricForests.subset) && metricForests.subset >= 1)
      )
    )
      throw new EngineError(
        'BAD_OPTION',
        `stream: metricForests needs a share in (0, 1), trees ≥ 1, samples ≥ 2, a split of 'metric' or 'bonferroni', distinct in [0, 1] and a subset ≥ 1`,
        { option: 'metricForests' },
      );
  }
  const wholeForest = options.wholeForest ?? DEFAULTS.wholeForest;
  if (
    wholeForest &&
    !(
      Number.isInteger(wholeForest.trees) &&
      wholeForest.trees >= 1 &&
      Number.isInteger(wholeForest.samples) &&
      wholeForest.samples >= 2
    )
  )
    throw new EngineError('BAD_OPTION', `stream: wholeForest needs trees ≥ 1 and samples ≥ 2`, {
      option: 'wholeForest',
    });
  const budgetSplit = options.budgetSplit ?? DEFAULTS.budgetSplit;
  if (budgetSplit !== 'even' && budgetSplit !== 'union')
    throw new EngineError(
      'BAD_OPTION',
      `stream: budgetSplit must be 'even' or 'union', got ${String(budgetSplit)}`,
      {
        option: 'budgetSplit',
      },
    );
  return {
    features: options.features,
    warmup,
    retrainEvery,
    ensemble,
    separateChanges: options.separateChanges ?? DEFAULTS.separateChanges,
    driftCheckEvery,
    window,
    excludeAnomalies: options.excludeAnomalies ?? DEFAULTS.excludeAnomalies,
    trees: options.trees ?? DEFAULTS.trees,
    maxSamples: options.maxSamples ?? DEFAULTS.maxSamples,
    outOfRange: options.outOfRange ?? DEFAULTS.outOfRange,
    contamination,
    smoothing,
    alertsPerDay: options.alertsPerDay ?? DEFAULTS.alertsPerDay,
    metricForests,
    wholeForest,
    budgetSplit,
    seed: options.seed ?? DEFAULTS.seed,
  };
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * An anomaly detector for a stream of rows, as live data arrives: it collects a warm-up, trains
 * its first forests (one for levels, one for changes), then scores every row the moment it comes;
 * every `retrainEvery` rows it retrains on a sliding window of recent rows (leaving out what it
 * flagged): each forest grows a new cohort of its trees and drops its oldest, and the threshold
 * follows. Each cohort's seed derives from the seed and its number, so a replay is deterministic,
 * and nothing it outputs for row t depends on rows after t.
 */
export class StreamingDetector {
  readonly options: Required<StreamOptions>;
  private readonly transformer: FeatureTransformer;
  private readonly width: number;
  /** A ring buffer of feature rows: `windowRows` rows ending just before `windowNext`. */
  private window: Float64Array;
  private windowRows = 0;
  private windowNext = 0;
  private rowsSinceTraining = 0;
  private flaggedSinceTraining = 0;
  /**
   * Levels, then changes (when separate and present), then the whole forest and each metric's own
   * forest when asked;
   * no cohorts until the warm-up is done.
   */
  private readonly groups: ForestGroup[];
  /** The groups before the per-metric ones: their scores decide which rows are learnt. */
  private readonly mainGroups: number;
  /** Cohorts per group: `ensemble`, unless there are fewer trees than that. */
  private readonly cohortCount: number;
  private version = 0;
  /** Every this many window slots, one is in the threshold's sample (see setThresholds). */
  private readonly sampleStride: number;
  /**
   * Per sample slot, per group, per cohort (oldest first): Σ_{t∈m} h_t / c_m of the row in that slot,
   * so that a retrain scores the sample with its new cohort only. Valid once `sampleValid`.
   */
  private readonly sampleSums: Float64Array;
  private sampleValid = false;
  /** Scratch: the row just scored, per group and cohort, as in sampleSums; for remember. */
  private readonly rowSums: Float64Array;
  /** Up to DRIFT_REFERENCE_ROWS rows of the current model's training window, evenly spaced. */
  private driftReference = new Float64Array(0);
  /** The last `driftCheckEvery` feature rows, flagged or not, oldest first once full. */
  private recent: Float64Array;
  private recentRows = 0;
  private driftRetrains = 0;
  /** The last `smoothing` rows scored, oldest first. */
  private lastScored: ScoredRow[] = [];
  /** Per forest group, how rare its smoothed scores are among its recent normal ones. */
  private readonly calibrations: TailCalibration[];
  private readonly rate: RowRate;
  private readonly yesterday: YesterdayMemory;
  private lastTimeMs = Number.NaN;
  /** How many metrics' worth of alert budget the stream spends: see budget.ts. */
  private budgetMetrics = 1;
  /**
   * With `budgetSplit: 'union'`, how many groups alert independently (see union.ts): measured
   * before every refit, so it is not snapshotted (a restored detector measures it again from the
   * calibrations' histories, which are).
   */
  private budgetGroups: number;

  constructor(options: StreamOptions, snapshot?: StreamSnapshot | StreamSnapshotV5) {
    this.options = resolve(snapshot ? { ...BEFORE_OPTIONS, ...snapshot.options } : options);
    this.transformer = new FeatureTransformer(this.options.features, snapshot?.features);
    this.width = this.transformer.names.length;
    this.cohortCount = Math.min(this.options.ensemble, this.options.trees);
    this.groups = forestGroups(
      this.transformer.spec,
      this.options.separateChanges,
      this.options.trees,
      this.options.maxSamples,
      this.options.metricForests,
      this.options.wholeForest,
      this.cohortCount,
      this.options.seed,
    );
    this.mainGroups = this.groups.filter((g) => !g.beside).length;
    // The even split until measured: the first training measures it before any fit is made.
    this.budgetGroups = this.groups.length;
    // A trained detector's metric forests that were left out have no cohorts: known before the
    // calibrations take their budgets, which count the forests grown.
    if (snapshot && (snapshot.groups[0] ?? []).length > 0)
      this.groups.forEach((g, i) => (g.active = (snapshot.groups[i] ?? []).length > 0));
    this.window = new Float64Array(this.options.window * this.width);
    this.sampleStride = Math.ceil(this.options.window / THRESHOLD_SAMPLE);
    const sampleSlots = Math.ceil(this.options.window / this.sampleStride);
    this.sampleSums = new Float64Array(sampleSlots * this.groups.length * this.cohortCount);
    this.rowSums = new Float64Array(this.groups.length * this.cohortCount);
    this.recent = new Float64Array(this.options.driftCheckEvery * this.width);
    this.rate = new RowRate(snapshot?.intervalsMs);
    this.yesterday = new YesterdayMemory(snapshot?.yesterday);
    if (snapshot && 'budgetMetrics' in snapshot) this.budgetMetrics = snapshot.budgetMetrics;
    if (snapshot) this.budgetGroups = this.groups.filter((g) => g.active).length;
    // Each group spends its share of the budget: a row alerts when either finds it rare.
    this.calibrations = this.groups.map(
      (_, g) =>
        new TailCalibration(this.options.window, this.groupBudget(g), this.rate, snapshot?.calibration[g]),
    );
    if (snapshot) {
      this.lastTimeMs = snapshot.lastTimeMs ?? Number.NaN;
      // Each row back in its ring slot: the slots decide which rows the threshold samples.
      this.windowRows = snapshot.window.length / this.width;
      this.windowNext = snapshot.windowNext;
      for (let k = 0; k < this.windowRows; k++) {
        const slot = (this.windowNext - this.windowRows + k + this.options.window) % this.options.window;
        this.window.set(snapshot.window.slice(k * this.width, (k + 1) * this.width), slot * this.width);
      }
      this.rowsSinceTraining = snapshot.rowsSinceTraining;
      this.flaggedSinceTraining = snapshot.flaggedSinceTraining;
      this.version = snapshot.modelVersion;
      this.groups.forEach((g, i) => {
        g.cohorts = (snapshot.groups[i] ?? []).map((m) => IsolationForest.deserialize(fromBase64(m)));
        g.trees = g.cohorts.reduce((a, m) => a + m.params.trees, 0);
        g.threshold = snapshot.thresholds[i] ?? 0;
      });
      // The sample's sums are not kept: the next retrain scores the sample with every cohort.
      this.driftReference = Float64Array.from(snapshot.driftReference);
      this.recent.set(snapshot.recent);
      this.recentRows = snapshot.recent.length / this.width;
      this.driftRetrains = snapshot.driftRetrains;
      this.lastScored = snapshot.lastScored.map((r) => ({ ...r, x: Float64Array.from(r.x) }));
      // A detector of a release before the budget's unit: it learns the unit from its window now,
      // in force from each calibration's next refit.
      if (!('budgetMetrics' in snapshot) && this.groups[0]!.cohorts.length > 0) this.learnBudgetUnit();
      if (this.options.budgetSplit === 'union' && this.groups[0]!.cohorts.length > 0)
        this.splitBudget(this.activeHistories());
    }
  }

  /**
   * The alert budget of forest group g: the stream's (per metric, times the unit) over G_eff with
   * 'union'; with 'even', split evenly between the level, change and whole forests, the per-metric
   * forests' share taken out first and split between them (see StreamOptions.metricForests).
   */
  private groupBudget(g: number): number {
    const stream = this.options.alertsPerDay * this.budgetMetrics;
    if (this.options.budgetSplit === 'union') return stream / this.budgetGroups;
    const mf = this.options.metricForests;
    const metrics = this.groups.filter((x) => x.metric && x.active).length;
    // Level, change and whole forests split evenly what the metric forests leave.
    const even = this.groups.filter((x) => !x.metric).length;
    if (!mf || metrics === 0) return stream / even;
    if (!this.groups[g]!.metric) return (stream * (1 - mf.share)) / even;
    return mf.split === 'metric' ? mf.share * this.options.alertsPerDay : (stream * mf.share) / metrics;
  }

  /**
   * The effective number of metrics among the window's rows (see budget.ts), one column per field
   * (its first feature: the value itself unless turned off), and each group's budget from it.
   */
  private learnBudgetUnit(): void {
    const fields = this.transformer.spec.fields.length;
    const perField = this.perField();
    const columns = Array.from({ length: fields }, (_, f) => f * perField);
    this.budgetMetrics = effectiveMetrics(this.windowInOrder(), this.windowRows, this.width, columns);
    this.calibrations.forEach((c, g) => c.setAlertsPerDay(this.groupBudget(g)));
  }

  /**
   * Before the first training: which metrics' forests are grown (see MetricForests.distinct), judged
   * by the distinct values of each metric's first feature (its value) in the warm-up; a forest of
   * several metrics is grown when one of them passes.
   */
  private chooseMetricForests(): void {
    const mf = this.options.metricForests;
    if (!mf || mf.distinct <= 0) return;
    const rows = this.windowInOrder();
    const n = this.windowRows;
    const perField = this.perField();
    for (const g of this.groups) {
      if (!g.metric) continue;
      g.active = Array.from(g.columns).some((column) => {
        if (column % perField !== 0) return false;
        const seen = new Set<number>();
        for (let r = 0; r < n; r++) seen.add(rows[r * this.width + column]!);
        return seen.size >= mf.distinct * n;
      });
    }
  }

  /** Features per field (see featuresPerField). */
  private perField(): number {
    return featuresPerField(this.transformer.spec, this.width);
  }

  /**
   * G_eff among the active groups' aligned histories (see union.ts) and each group's budget from
   * it, in force from the calibrations' next refit.
   */
  private splitBudget(histories: ArrayLike<number>[]): void {
    this.budgetGroups = effectiveGroups(histories);
    this.calibrations.forEach((c, g) => c.setAlertsPerDay(this.groupBudget(g)));
  }

  /** The active groups' calibration histories, aligned row for row (see TailCalibration.history). */
  private activeHistories(): Float64Array[] {
    return this.calibrations.flatMap((c, g) => (this.groups[g]!.active ? [c.history()] : []));
  }

  /** How many forest groups alert independently (see union.ts); the group count with 'even'. */
  get effectiveGroups(): number {
    return this.budgetGroups;
  }

  /** The alert budget's unit: how many metrics' worth of alerts this stream may raise (see budget.ts). */
  get effectiveMetrics(): number {
    return this.budgetMetrics;
  }

  /** Names of the features, for explanations. */
  get featureNames(): string[] {
    return this.transformer.names;
  }

  /**
   * `push`, and the row explained by the forests that scored it (see RowExplanation): the group
   * that flagged it (the first with the highest calibrated score, as `push` picks it), and of the
   * rows its score averages the one that group found most anomalous, with that group's cohorts as
   * they stood when the row came (a retrain the row triggers comes after). So the largest
   * contribution of a flagged row is its `topFeature`. No explanation while warming up. The same
   * result and state after as `push`; costs TreeSHAP over the group and copies of the window and
   * calibrations, for one row a user asks about, not for a stream.
   */
  pushExplained(
    values: ArrayLike<number>,
    timeMs: number,
  ): { result: StreamResult; explanation?: RowExplanation } {
    const trained = this.groups[0]!.cohorts.length > 0;
    const cohorts = this.groups.map((g) => g.cohorts.slice());
    const fits = trained ? this.calibrations.map((c) => ({ ...c.snapshot(), scores: [] })) : [];
    const window = trained ? this.windowInOrder() : new Float64Array(0);
    const retrain = this.version;
    const before = this.lastScored.at(-1);
    const result = this.push(values, timeMs);
    const last = this.lastScored.at(-1);
    if (!trained || !last || last === before) return { result };
    const groupScores = this.groups.map((_, g) => {
      const calibration = new TailCalibration(
        this.options.window,
        this.options.alertsPerDay / this.groups.length,
        this.rate,
        fits[g],
      );
      return calibration.calibrate(this.groupMean(g));
    });
    let top = 0;
    let group = 0;
    groupScores.forEach((c, i) => {
      if (c > top) [top, group] = [c, i];
    });
    const g = this.groups[group]!;
    const r = this.lastScored.reduce((a, b) => (b.groups[group]! > a.groups[group]! ? b : a));
    const row = Float64Array.from(g.columns, (c) => r.x[c]!);
    const e = explainCohorts(cohorts[group]!, row);
    return {
      result,
      explanation: {
        group: this.groupName(group),
        groupScores,
        rowsBack: this.lastScored.length - 1 - this.lastScored.indexOf(r),
        retrain,
        trees: cohorts[group]!.reduce((a, m) => a + m.params.trees, 0),
        features: Array.from(g.columns, (c) => this.transformer.names[c]!),
        values: Array.from(row),
        contributions: e.contributions,
        baseline: e.baseline,
        pathLength: e.pathLength,
        forestScore: e.forestScore,
        learnt: learntRanges(cohorts[group]!, g.columns.length),
        window: Array.from(g.columns, (c, i) => columnDistribution(window, this.width, c, row[i]!)),
      },
    };
  }

  /** What an explanation calls group g. */
  private groupName(g: number): RowExplanation['group'] {
    // The whole forest, or a forest of one metric or a few, sees every feature of what it covers.
    if (this.groups[g]!.beside) return 'all';
    return this.mainGroups === 1 ? 'all' : g === 0 ? 'levels' : 'changes';
  }

  /** Takes the next row (raw field values in the spec's order, NaN = missing) and scores it. */
  push(values: ArrayLike<number>, timeMs: number): StreamResult {
    return this.take(this.transformer.push(values, timeMs), timeMs);
  }

  /**
   * Takes many rows, exactly as `push` on each in turn would: the same results, the same state
   * after. `values` holds them row-major (one value per field, NaN = missing); each result is
   * appended to `out` as its row is taken, so when a row is refused (the EngineError `push` would
   * throw) `out.length` is that row's index and every row before it has been taken.
   *
   * Faster than `push` because the models change only when the detector retrains, which happens at
   * row counts known in advance (the schedule and the drift check): the rows up to the next such
   * point are scored together, each model's trees walked by all of them in turn (the batch
   * kernel, the same sums in the same order as scoreOne), instead of every row walking every tree
   * of every model, whose nodes are by then out of cache.
   */
  pushMany(values: ArrayLike<number>, timesMs: ArrayLike<number>, out: StreamResult[] = []): StreamResult[] {
    const fields = this.transformer.spec.fields.length;
    const rows = timesMs.length;
    if (values.length !== rows * fields)
      throw new EngineError(
        'FEATURE_MISMATCH',
        `${values.length} values for ${rows} rows of ${fields} fields: expected ${rows * fields}`,
      );
    const { width } = this;
    const chunk = Math.min(rows, PUSH_CHUNK);
    const xs = new Float64Array(chunk * width);
    const ready = new Uint8Array(chunk);
    const row = new Float64Array(fields);
    for (let from = 0; from < rows; from += PUSH_CHUNK) {
      const to = Math.min(rows, from + PUSH_CHUNK);
      // Features first: the transformer depends on the input alone, never on scores or models.
      let end = to;
      let refused: unknown;
      for (let r = from; r < to; r++) {
        for (let f = 0; f < fields; f++) row[f] = values[r * fields + f]!;
        try {
          const x = this.transformer.push(
            row,
            timesMs[r]!,
            xs.subarray((r - from) * width, (r - from + 1) * width),
          );
          ready[r - from] = x ? 1 : 0;
        } catch (err) {
          refused = err;
          end = r;
          break;
        }
      }
      let r = from;
      while (r < end) {
        const i = r - from;
        const x = xs.subarray(i * width, (i + 1) * width);
        if (!ready[i] || this.groups[0]!.cohorts.length === 0) {
          out.push(this.take(ready[i] ? x.slice() : undefined, timesMs[r]!));
          r++;
          continue;
        }
        let count = Math.min(end - r, this.rowsBeforeRetrain());
        for (let k = 1; k < count; k++)
          if (!ready[i + k]) {
            count = k;
            break;
          }
        const scored = this.scoreRows(xs, i, count);
        const version = this.version;
        for (let k = 0; k < count; k++, r++) {
          const at = (i + k) * width;
          out.push(this.take(xs.slice(at, at + width), timesMs[r]!, scored, k));
          // A retrain (the drift check can end an interval early): the rest are scored again.
          if (this.version !== version) {
            r++;
            break;
          }
        }
      }
      if (refused !== undefined) throw refused;
    }
    return out;
  }

  /**
   * Rows the current models score for certain: a retrain can follow only the row on which the
   * schedule is due, or on which the drift check runs (see push).
   */
  private rowsBeforeRetrain(): number {
    const { retrainEvery, driftCheckEvery } = this.options;
    let rows = PUSH_CHUNK;
    if (retrainEvery > 0) rows = Math.min(rows, Math.max(1, retrainEvery - this.rowsSinceTraining));
    if (driftCheckEvery > 0) rows = Math.min(rows, Math.max(1, driftCheckEvery - this.recentRows));
    return rows;
  }

  /**
   * Each cohort's Σ_t h_t / c of `count` feature rows of xs from row `first`, by the batch kernel:
   * per group, per cohort (oldest first), `count` sums; the same numbers as cohortSum on each row.
   */
  private scoreRows(xs: Float64Array, first: number, count: number): Float64Array[][] {
    const { width } = this;
    return this.groups.map((g) => {
      if (!g.active) return [];
      const k = g.columns.length;
      const data = groupRows(g, count);
      for (let r = 0; r < count; r++)
        for (let c = 0; c < k; c++) data[r * k + c] = xs[(first + r) * width + g.columns[c]!]!;
      return g.cohorts.map((m) => {
        const sums = m.pathLengthSums({ rows: count, cols: k, data });
        const c = m.normalizer;
        for (let r = 0; r < count; r++) sums[r] = sums[r]! / c;
        return sums;
      });
    });
  }

  /**
   * The rest of push, once the row's features are known (x, or undefined while the look-back is
   * filling): with `scored`, its models' scores are row `at` of a batch scored by scoreRows.
   */
  private take(x: Float64Array | undefined, timeMs: number, scored?: Float64Array[][], at = 0): StreamResult {
    this.rate.observe(timeMs - this.lastTimeMs);
    this.lastTimeMs = timeMs;
    const idle: StreamResult = {
      score: 0,
      threshold: 0,
      forestScore: 0,
      isAnomaly: false,
      severity: 'none',
      modelVersion: this.version,
    };
    if (!x) return idle;
    let result: StreamResult = idle;
    const trained = this.groups[0]!.cohorts.length > 0;
    let looksAnomalous = false;
    let smoothed: number[] = [];
    let inEpisode = false;
    if (trained) {
      const { score: own, threshold, groups } = this.score(x, scored, at);
      looksAnomalous = own > threshold;
      const forestScore = this.smooth({ own, groups, x });
      smoothed = this.groups.map((_, g) => this.groupMean(g));
      let score = 0;
      let flaggedBy = 0;
      smoothed.forEach((s, i) => {
        if (!this.groups[i]!.active) return;
        const c = this.calibrations[i]!.calibrate(s);
        if (c > score) [score, flaggedBy] = [c, i];
      });
      const over = score > CALIBRATED_THRESHOLD;
      // A routine seen yesterday, unless today's row is rarer than anything at that time then.
      const yesterday = over ? this.yesterday.highest(timeMs) : 0;
      const recurring = over && yesterday > CALIBRATED_THRESHOLD && score <= yesterday;
      this.yesterday.add(timeMs, score);
      // The memory holds timed rows only: a row without a time still keeps itself out when over.
      inEpisode = over || this.yesterday.recentlyOver(EPISODE_GAP, CALIBRATED_THRESHOLD);
      const isAnomaly = over && !recurring;
      result = {
        score,
        threshold: CALIBRATED_THRESHOLD,
        forestScore,
        isAnomaly,
        severity: isAnomaly ? severityOf(score, CALIBRATED_THRESHOLD) : 'none',
        modelVersion: this.version,
      };
      if (recurring) result.recurring = true;
      if (isAnomaly) result.topFeature = this.topFeature(flaggedBy);
    }
    this.rowsSinceTraining++;
    if (looksAnomalous) this.flaggedSinceTraining++;
    // Judged over at least a warm-up's worth of rows: two flags soon after a retrain are no new normal.
    const regimeChange =
      this.flaggedSinceTraining >
      REGIME_CHANGE_FACTOR *
        this.options.contamination *
        Math.max(this.rowsSinceTraining, this.options.warmup);
    if (!(looksAnomalous && this.options.excludeAnomalies && !regimeChange)) this.remember(x);
    // The calibration learns what normal scores are: a row over the threshold and the rows of the
    // alert episode it opens (fewer than EPISODE_GAP rows after it) stay out of it, unless they are
    // a new normal, so an incident does not raise its own bar while it lasts.
    if (trained && (!inEpisode || regimeChange)) {
      // Every active group adds the same rows, so they refit together, with the split measured
      // just before (from state a snapshot keeps: a restored detector splits the same way).
      if (this.options.budgetSplit === 'union' && this.calibrations[0]!.refitsNext)
        this.splitBudget(this.activeHistories());
      smoothed.forEach((s, i) => {
        if (this.groups[i]!.active) this.calibrations[i]!.add(s);
      });
    }
    const due = trained
      ? (this.options.retrainEvery > 0 && this.rowsSinceTraining >= this.options.retrainEvery) ||
        this.drifted(x)
      : this.windowRows >= this.options.warmup;
    if (due && this.windowRows >= 2) {
      const first = !trained;
      if (first) this.chooseMetricForests();
      this.train();
      if (first) {
        this.learnBudgetUnit();
        const scores = this.inSampleScores();
        if (this.options.budgetSplit === 'union')
          this.splitBudget(scores.filter((_, i) => this.groups[i]!.active));
        scores.forEach((s, i) => {
          if (this.groups[i]!.active) this.calibrations[i]!.seed(s);
        });
      }
    }
    return result;
  }

  /**
   * Each group scores the row with its rolling forest (see ForestGroup). The row's score is the
   * group that finds it most anomalous, once every group's score is put on one threshold T (the mean of
   * the groups' thresholds) by s ↦ s^(ln T / ln t): a score is 2^(−h/c), so this scales a group's
   * path lengths by its own threshold's. A group then scores exactly T at its own threshold, keeps
   * its order, and stays a score in (0, 1]; with one group nothing changes.
   */
  private score(
    x: Float64Array,
    scored?: Float64Array[][],
    at = 0,
  ): { score: number; threshold: number; groups: number[] } {
    const scores: number[] = [];
    const thresholds: number[] = [];
    const n = this.cohortCount;
    const main = this.mainGroups;
    for (const [gi, g] of this.groups.entries()) {
      if (!g.active) {
        scores.push(0);
        thresholds.push(0);
        continue;
      }
      if (!scored) for (let i = 0; i < g.columns.length; i++) g.row[i] = x[g.columns[i]!]!;
      let sum = 0;
      for (const [mi, m] of g.cohorts.entries()) {
        const h = scored ? scored[gi]![mi]![at]! : m.pathLengthTotal(g.row) / m.normalizer;
        this.rowSums[gi * n + mi] = h;
        sum += h;
      }
      scores.push(Math.pow(2, -sum / g.trees));
      thresholds.push(g.threshold);
    }
    // The per-metric forests' scores go to their calibrations only: each flags its 1 % of the
    // window, and together they would keep most rows out of it and call every retrain a new normal.
    if (main === 1) return { score: scores[0]!, threshold: thresholds[0]!, groups: scores };
    // Summed, then divided: the same arithmetic as before the per-metric forests, to the bit.
    let common = 0;
    for (let i = 0; i < main; i++) common += thresholds[i]!;
    common /= main;
    let score = 0;
    for (let group = 0; group < main; group++)
      score = Math.max(score, Math.pow(scores[group]!, Math.log(common) / Math.log(thresholds[group]!)));
    return { score, threshold: common, groups: scores };
  }

  /** The mean of the last `smoothing` rows' own scores, this row's included. */
  private smooth(row: ScoredRow): number {
    this.lastScored.push(row);
    if (this.lastScored.length > this.options.smoothing) this.lastScored.shift();
    return this.lastScored.reduce((a, r) => a + r.own, 0) / this.lastScored.length;
  }

  /** A group's mean score over the last `smoothing` rows scored: what its calibration judges. */
  private groupMean(group: number): number {
    let sum = 0;
    for (const r of this.lastScored) sum += r.groups[group]!;
    return sum / this.lastScored.length;
  }

  /**
   * A flagged row's top feature: TreeSHAP in the group that flagged it, of the row its score
   * averages that this group finds most anomalous (with no smoothing, the row itself), with the
   * group's newest model, the one that knows the most recent normal. So a row flagged on the
   * strength of a spike just before it names what spiked, not whatever is largest in an ordinary row.
   */
  private topFeature(group: number): string {
    const r = this.lastScored.reduce((a, b) => (b.groups[group]! > a.groups[group]! ? b : a));
    // A spike stays the most anomalous of the last rows for a few rows: explain it once per model.
    if (r.explained?.version === this.version && r.explained.group === group) return r.explained.feature;
    const g = this.groups[group]!;
    for (let i = 0; i < g.columns.length; i++) g.row[i] = r.x[g.columns[i]!]!;
    // The group's Σ_m Σ_t h_t / c_m decomposed: each cohort's contributions are per tree of its own.
    const c = explainCohorts(g.cohorts, g.row).raw;
    let best = 0;
    for (let i = 1; i < c.length; i++) if (c[i]! > c[best]!) best = i;
    const feature = this.transformer.names[g.columns[best]!]!;
    r.explained = { version: this.version, group, feature };
    return feature;
  }

  /**
   * The first model's smoothed scores of its own training rows: the calibration's history until
   * scores of live rows replace them (they are lower than live scores would be, so the first
   * hours after the warm-up are judged a little strictly).
   */
  private inSampleScores(): Float64Array[] {
    const rows = this.windowRows;
    // The batch kernel's sums, added cohort by cohort as score adds them: the same scores.
    const own = this.scoreRows(this.windowInOrder(), 0, rows).map((cohorts, g) => {
      const scores = new Float64Array(rows);
      const trees = this.groups[g]!.trees;
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (const sums of cohorts) sum += sums[r]!;
        scores[r] = Math.pow(2, -sum / trees);
      }
      return scores;
    });
    const k = this.options.smoothing;
    return own.map((scores) => {
      const out = new Float64Array(rows);
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        sum += scores[r]!;
        if (r >= k) sum -= scores[r - k]!;
        out[r] = sum / Math.min(r + 1, k);
      }
      return out;
    });
  }

  /** How many times the detector has trained: the first training and every retrain since. */
  get trainings(): number {
    return this.version;
  }

  /** How many times the drift consensus triggered a retrain. */
  get retrainsOnDrift(): number {
    return this.driftRetrains;
  }

  /** Adds x to the recent rows; every `driftCheckEvery` rows, tests them against the training sample. */
  private drifted(x: Float64Array): boolean {
    const every = this.options.driftCheckEvery;
    if (every === 0) return false;
    this.recent.set(x, this.recentRows * this.width);
    this.recentRows++;
    if (this.recentRows < every) return false;
    const current = { rows: every, cols: this.width, data: this.recent.slice() };
    this.recentRows = 0;
    const reference = {
      rows: this.driftReference.length / this.width,
      cols: this.width,
      data: this.driftReference,
    };
    if (reference.rows < 2) return false;
    const drifted = driftReport(this.transformer.names, reference, current).drifted;
    if (drifted) this.driftRetrains++;
    return drifted;
  }

  /** Adds x to the window; a row of the threshold's sample keeps its cohorts' sums, just computed by score. */
  private remember(x: Float64Array): void {
    if (this.sampleValid && this.windowNext % this.sampleStride === 0)
      this.sampleSums.set(this.rowSums, (this.windowNext / this.sampleStride) * this.rowSums.length);
    this.window.set(x, this.windowNext * this.width);
    this.windowNext = (this.windowNext + 1) % this.options.window;
    this.windowRows = Math.min(this.windowRows + 1, this.options.window);
  }

  /** The window's rows oldest first, as one contiguous copy. */
  private windowInOrder(): Float64Array {
    const { width } = this;
    const out = new Float64Array(this.windowRows * width);
    const start = (this.windowNext - this.windowRows + this.options.window) % this.options.window;
    const firstPart = Math.min(this.windowRows, this.options.window - start);
    out.set(this.window.subarray(start * width, (start + firstPart) * width), 0);
    out.set(this.window.subarray(0, (this.windowRows - firstPart) * width), firstPart * width);
    return out;
  }

  /**
   * Grows the next cohort of every group on the window (the first time, every cohort), dropping
   * the oldest, and sets the groups' thresholds.
   */
  private train(): void {
    this.version++;
    const { width, windowRows: rows } = this;
    const capacity = this.options.window;
    /** Ring slot of the window's r-th row, oldest first. */
    const start = (this.windowNext - rows + capacity) % capacity;
    const slot = (r: number): number => (start + r) % capacity;
    const n = this.cohortCount;
    const first = this.groups[0]!.cohorts.length === 0;
    // Cohorts are numbered from 1: the first training grows 1…n, the retrain to version v grows n + v − 1.
    const numbers = first ? Array.from({ length: n }, (_, k) => k + 1) : [n + this.version - 1];
    this.groups.forEach((g, i) => {
      if (!g.active) return;
      const k = g.columns.length;
      // The group's columns of the window, oldest first (indexed directly when they are a run).
      const columns = groupRows(g, rows);
      const from = g.columns[0]!;
      const run = g.columns[k - 1]! - from === k - 1;
      for (let r = 0; r < rows; r++) {
        const at = slot(r) * width;
        if (run) for (let c = 0; c < k; c++) columns[r * k + c] = this.window[at + from + c]!;
        else for (let c = 0; c < k; c++) columns[r * k + c] = this.window[at + g.columns[c]!]!;
      }
      for (const number of numbers) {
        const cohort = IsolationForest.fit(
          { rows, cols: k, data: columns },
          {
            trees: cohortTrees(number, g.size, n),
            maxSamples: g.maxSamples,
            outOfRange: this.options.outOfRange,
            seed: (this.options.seed + number + i * GROUP_SEED_STEP) >>> 0,
          },
        );
        g.cohorts.push(cohort);
      }
      if (g.cohorts.length > n) g.cohorts.shift();
      g.trees = g.cohorts.reduce((a, m) => a + m.params.trees, 0);
    });
    this.setThresholds();
    this.rowsSinceTraining = 0;
    this.flaggedSinceTraining = 0;
    // The new model's reference for drift checks: its training rows, evenly spaced.
    const step = Math.max(1, Math.floor(rows / DRIFT_REFERENCE_ROWS));
    const picked = Math.ceil(rows / step);
    this.driftReference = new Float64Array(picked * width);
    for (let k = 0; k < picked; k++) {
      const at = slot(k * step) * width;
      this.driftReference.set(this.window.subarray(at, at + width), k * width);
    }
    this.recentRows = 0;
  }

  /**
   * Each group's threshold: the (1 − contamination) quantile of its scores on the threshold's
   * sample of the window, the rows in every `sampleStride`-th ring slot (at most THRESHOLD_SAMPLE,
   * evenly spread over the window whatever its age). A row's sums per cohort are kept from when it
   * was scored live, so after a retrain only the new cohort walks the sample; after the first
   * training or a restore, every cohort does.
   */
  private setThresholds(): void {
    const { width, sampleStride: stride, cohortCount: n } = this;
    const groups = this.groups.length;
    const slots = Math.ceil(this.windowRows / stride);
    const scores = new Float64Array(slots);
    this.groups.forEach((g, gi) => {
      if (!g.active) return;
      const k = g.columns.length;
      const data = groupRows(g, slots);
      for (let j = 0; j < slots; j++)
        for (let c = 0; c < k; c++) data[j * k + c] = this.window[j * stride * width + g.columns[c]!]!;
      const x = { rows: slots, cols: k, data };
      if (this.sampleValid)
        for (let j = 0; j < slots; j++) {
          const at = (j * groups + gi) * n;
          for (let mi = 0; mi + 1 < n; mi++) this.sampleSums[at + mi] = this.sampleSums[at + mi + 1]!;
        }
      for (let mi = this.sampleValid ? n - 1 : 0; mi < n; mi++) {
        const m = g.cohorts[mi]!;
        const sums = m.pathLengthSums(x);
        const c = m.normalizer;
        for (let j = 0; j < slots; j++) this.sampleSums[(j * groups + gi) * n + mi] = sums[j]! / c;
      }
      for (let j = 0; j < slots; j++) {
        let sum = 0;
        for (let mi = 0; mi < n; mi++) sum += this.sampleSums[(j * groups + gi) * n + mi]!;
        scores[j] = Math.pow(2, -sum / g.trees);
      }
      g.threshold = quantileSorted(scores.sort(), 1 - this.options.contamination);
    });
    this.sampleValid = true;
  }

  snapshot(): StreamSnapshot {
    return {
      format: 6,
      options: this.options,
      features: this.transformer.snapshot(),
      window: Array.from(this.windowInOrder()),
      windowNext: this.windowNext,
      rowsSinceTraining: this.rowsSinceTraining,
      flaggedSinceTraining: this.flaggedSinceTraining,
      modelVersion: this.version,
      groups: this.groups.map((g) => g.cohorts.map((m) => toBase64(m.serialize()))),
      thresholds: this.groups.map((g) => g.threshold),
      driftReference: Array.from(this.driftReference),
      recent: Array.from(this.recent.subarray(0, this.recentRows * this.width)),
      driftRetrains: this.driftRetrains,
      lastScored: this.lastScored.map((r) => ({ own: r.own, groups: r.groups, x: Array.from(r.x) })),
      calibration: this.calibrations.map((c) => c.snapshot()),
      budgetMetrics: this.budgetMetrics,
      intervalsMs: this.rate.snapshot(),
      yesterday: this.yesterday.snapshot(),
      lastTimeMs: Number.isFinite(this.lastTimeMs) ? this.lastTimeMs : null,
    };
  }

  /**
   * A detector from its snapshot: this format, format 5 (before the budget's unit: it learns the
   * unit from its window) or format 4 (see fromFormat4).
   */
  static restore(snapshot: StreamSnapshot | StreamSnapshotV5 | StreamSnapshotV4): StreamingDetector {
    if (snapshot.format === 4) return new StreamingDetector(snapshot.options, fromFormat4(snapshot));
    if (snapshot.format !== 5 && snapshot.format !== 6)
      throw new EngineError(
        'FORMAT_VERSION',
        `stream snapshot format ${String((snapshot as { format: unknown }).format)} is not supported (this version reads 4, 5 and 6)`,
      );
    return new StreamingDetector(snapshot.options, snapshot);
  }
}

/**
 * Trees of cohort `number` (from 1) when `trees` are split over `n` cohorts as evenly as they go;
 * a cohort replaces the one n before it, of the same size, so the group always holds `trees`.
 */
function cohortTrees(number: number, trees: number, n: number): number {
  return Math.floor(trees / n) + ((number - 1) % n < trees % n ? 1 : 0);
}

/** The snapshot of releases before the budget's unit: every stream spent one series' budget. */
export type StreamSnapshotV5 = Omit<StreamSnapshot, 'format' | 'budgetMetrics'> & { format: 5 };

/** The snapshot of releases before issue 21: whole forests voting, each with its own threshold. */
export type StreamSnapshotV4 = Omit<StreamSnapshotV5, 'format' | 'windowNext' | 'thresholds'> & {
  format: 4;
};

/**
 * A format-4 snapshot as this format: each group's rolling forest takes its cohorts' trees from
 * the old forests, oldest first (a young detector's fewer forests give several cohorts each, from
 * trees of their own), so the group keeps what every retrain learnt, and its threshold is the mean
 * of the old forests' thresholds, as they scored. The window was kept oldest first from slot 0.
 * The next retrain replaces the oldest cohort as usual; scores go on close to the old ones, not to
 * the bit.
 */
function fromFormat4(old: StreamSnapshotV4): StreamSnapshotV5 {
  const options = resolve(old.options);
  const n = Math.min(options.ensemble, options.trees);
  const groups: string[][] = [];
  const thresholds: number[] = [];
  for (const models of old.groups) {
    const forests = models.map((m) => IsolationForest.deserialize(fromBase64(m)));
    thresholds.push(forests.reduce((a, f) => a + f.threshold, 0) / Math.max(1, forests.length));
    const cohorts: string[] = [];
    let start = 0;
    for (let k = 0; k < n && forests.length > 0; k++) {
      // At version v the cohorts are numbers v…v + n − 1 (see train): sizes as the next retrains expect.
      const size = cohortTrees(Math.max(1, old.modelVersion) + k, options.trees, n);
      const source = forests[Math.floor((k * forests.length) / n)]!;
      const from = Math.min(start % source.params.trees, source.params.trees - size);
      cohorts.push(toBase64(source.treeRange(from, from + size).serialize()));
      start += size;
    }
    groups.push(cohorts);
  }
  const width = new FeatureTransformer(options.features, old.features).names.length;
  return {
    ...old,
    format: 5,
    windowNext: (old.window.length / width) % options.window,
    groups,
    thresholds,
  };
}

/** Features per field among `width`: featureList lists each field's together, field by field, then the time's. */
function featuresPerField(spec: Required<FeatureSpec>, width: number): number {
  const time = (spec.timeOfDay ? 2 : 0) + (spec.dayOfWeek ? 2 : 0);
  return (width - time) / spec.fields.length;
}

/**
 * Levels and changes apart when asked and both present, otherwise one group of every feature;
 * then, when the stream has two or more metrics, the whole forest over every feature (when levels
 * and changes are apart and it is asked) and each metric's own features (featureList lists them
 * field by field) as a group of its own when asked.
 */
function forestGroups(
  spec: Required<FeatureSpec>,
  separateChanges: boolean,
  trees: number,
  maxSamples: number | 'auto',
  metricForests: MetricForests | false,
  wholeForest: StreamOptions['wholeForest'],
  cohorts: number,
  seed: number,
): ForestGroup[] {
  const list = featureList(spec);
  const indices = (keep: (change: boolean) => boolean): number[] =>
    list.flatMap((f, i) => (keep(f.change) ? [i] : []));
  const levels = indices((change) => !change);
  const changes = indices((change) => change);
  const sets =
    separateChanges && levels.length > 0 && changes.length > 0 ? [levels, changes] : [indices(() => true)];
  const group = (
    columns: number[],
    size: number,
    samples: number | 'auto',
    beside: boolean,
    metric: boolean,
  ): ForestGroup => ({
    columns: Int32Array.from(columns),
    size,
    maxSamples: samples,
    beside,
    metric,
    active: true,
    cohorts: [],
    trees: 0,
    threshold: 0,
    row: new Float64Array(columns.length),
    rows: new Float64Array(0),
  });
  const groups = sets.map((columns) => group(columns, trees, maxSamples, false, false));
  const fields = spec.fields.length;
  if (wholeForest && fields > 1 && sets.length > 1)
    groups.push(
      group(
        indices(() => true),
        Math.max(wholeForest.trees, cohorts),
        wholeForest.samples,
        true,
        false,
      ),
    );
  if (metricForests && fields > 1) {
    const perField = featuresPerField(spec, list.length);
    const size = Math.max(metricForests.trees, cohorts);
    const subset = metricForests.subset ?? 1;
    const order = Array.from({ length: fields }, (_, f) => f);
    if (subset > 1) {
      const rng = new Random(seed >>> 0);
      for (let i = fields - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    for (let from = 0; from < fields; from += subset) {
      const metrics = order.slice(from, from + subset).sort((a, b) => a - b);
      const columns = metrics.flatMap((f) => Array.from({ length: perField }, (_, k) => f * perField + k));
      groups.push(group(columns, size, metricForests.samples, true, true));
    }
  }
  return groups;
}

/** The group's scratch for `count` rows of its columns, grown when too small. */
function groupRows(g: ForestGroup, count: number): Float64Array {
  const size = count * g.columns.length;
  if (g.rows.length < size) g.rows = new Float64Array(size);
  return g.rows.subarray(0, size);
}

import { EngineError } from '../errors.js';

/**
 * Detection metrics with scikit-learn's definitions, so numbers can be compared with published
 * results. Labels are 1 for anomalous and 0 for normal; higher scores mean more anomalous.
 */

export interface Confusion {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface PointMetrics extends Confusion {
  precision: number;
  recall: number;
  f1: number;
}

function checkPair(a: ArrayLike<number>, labels: ArrayLike<number>, what: string): void {
  if (a.length !== labels.length) {
    throw new EngineError('FEATURE_MISMATCH', `${a.length} ${what} for ${labels.length} labels`);
  }
  if (a.length === 0) throw new EngineError('EMPTY_DATA', `no ${what}: nothing to evaluate`);
}

/** Counts of flagged against labelled points. Precision with nothing flagged is 0, as scikit-learn's zero_division=0. */
export function pointMetrics(flags: ArrayLike<number | boolean>, labels: ArrayLike<number>): PointMetrics {
  checkPair(flags as ArrayLike<number>, labels, 'flags');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const flagged = Boolean(flags[i]);
    if (labels[i]) {
      if (flagged) tp++;
      else fn++;
    } else if (flagged) fp++;
    else tn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return {
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
    precision,
    recall,
    f1,
  };
}

/** Indices sorted by descending score (ties in index order, so results are deterministic). */
function descendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

function countPositives(labels: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) p++;
  return p;
}

/**
 * Area under the ROC curve: the probability that a random anomaly outscores a random normal
 * point, ties counting one half (the Mann–Whitney U statistic over n₊·n₋). NaN when the labels
 * hold only one class, as the curve is then undefined.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkPair(scores, labels, 'scores');
  const pos = countPositives(labels);
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  const order = descendingOrder(scores);
  // Walk from the highest score down; within a block of tied scores, each positive beats the
  // negatives below the block and ties with the block's negatives.
  let negativesBelow = neg;
  let u = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    let p = 0;
    let n = 0;
    const s = scores[order[i]!]!;
    while (j < order.length && scores[order[j]!] === s) {
      if (labels[order[j]!]) p++;
      else n++;
      j++;
    }
    negativesBelow -= n;
    u += p * (negativesBelow + n / 2);
    i = j;
  }
  return u / (pos * neg);
}

export interface ThresholdPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * The precision–recall curve at every distinct score, from the highest threshold down (a point
 * is flagged when its score is ≥ the threshold), as scikit-learn's precision_recall_curve.
 */
export function precisionRecallCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): ThresholdPoint[] {
  checkPair(scores, labels, 'scores');
  const pos = countPositives(labels);
  const order = descendingOrder(scores);
  const curve: ThresholdPoint[] = [];
  let tp = 0;
  let flagged = 0;
  for (let i = 0; i < order.length;) {
    const s = scores[order[i]!]!;
    while (i < order.length && scores[order[i]!] === s) {
      if (labels[order[i]!]) tp++;
      flagged++;
      i++;
    }
    curve.push({ threshold: s, precision: tp / flagged, recall: pos > 0 ? tp / pos : 0 });
  }
  return curve;
}

/** Average precision (PR-AUC as scikit-learn computes it): Σ (Rₙ − Rₙ₋₁)·Pₙ over thresholds. NaN without positives. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (countPositives(labels) === 0) return Number.NaN;
  let ap = 0;
  let previousRecall = 0;
  for (const point of precisionRecallCurve(scores, labels)) {
    ap += (point.recall - previousRecall) * point.precision;
    previousRecall = point.recall;
  }
  return ap;
}

/** The best F1 over all thresholds, and the threshold that gives it (flag when score ≥ threshold). */
export function bestF1(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): { f1: number; threshold: number } {
  let best = { f1: 0, threshold: Number.POSITIVE_INFINITY };
  for (const { threshold, precision, recall } of precisionRecallCurve(scores, labels)) {
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { f1, threshold };
  }
  return best;
}

export interface LabelledEvent {
  /** First and last row (inclusive) of a contiguous run of positive labels. */
  start: number;
  end: number;
  found: boolean;
  /** Rows from the event's start to the first flagged row inside it; undefined when not found. */
  delayRows?: number;
  /** The same delay in the clock's unit, when times are given. */
  delay?: number;
}

export interface EventRecall {
  events: LabelledEvent[];
  found: number;
  recall: number;
  /** Flagged runs that touch no labelled event: what an on-call person sees as false alarms. */
  falseAlarmRuns: number;
}

/** Contiguous runs of truthy values as [start, end] inclusive. */
export function runsOf(values: ArrayLike<number | boolean>): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < values.length; i++) {
    if (!values[i]) continue;
    const start = i;
    while (i + 1 < values.length && values[i + 1]) i++;
    runs.push([start, i]);
  }
  return runs;
}

/**
 * Event-level recall: an incident (a run of positive labels) is found when any point inside it
 * is flagged; the delay is how long after its start the first flag came. Operators care about
 * incidents, not points: a detector that flags one minute of a ten-minute outage did its job.
 */
export function eventRecall(
  flags: ArrayLike<number | boolean>,
  labels: ArrayLike<number>,
  times?: ArrayLike<number>,
): EventRecall {
  checkPair(flags as ArrayLike<number>, labels, 'flags');
  const events: LabelledEvent[] = runsOf(labels).map(([start, end]) => {
    for (let i = start; i <= end; i++) {
      if (flags[i]) {
        return {
          start,
          end,
          found: true,
          delayRows: i - start,
          ...(times ? { delay: times[i]! - times[start]! } : {}),
        };
      }
    }
    return { start, end, found: false };
  });
  const found = events.filter((e) => e.found).length;
  const falseAlarmRuns = runsOf(flags).filter(([start, end]) => {
    for (let i = start; i <= end; i++) if (labels[i]) return false;
    return true;
  }).length;
  return { events, found, recall: events.length > 0 ? found / events.length : Number.NaN, falseAlarmRuns };
}

/**
 * Which moment of a flagged stretch to explain. The single highest row is often a one-interval
 * blip next to a long incident whose rows score a little lower; an operator asks about the
 * incident. So scores are smoothed first, and the moment is the peak of the smoothed score.
 */

/** A run of consecutive flagged points, by index, both ends included. */
export interface Run {
  first: number;
  last: number;
}

export interface Moment {
  /** The index and time of the moment to explain, and its own (unsmoothed) score. */
  index: number;
  time: number;
  score: number;
  /** The smoothed score there: the mean of the point and its neighbours. */
  smoothed: number;
  /** The flagged run it belongs to (indices, and the times of its first and last point). */
  run: Run;
  start: number;
  end: number;
}

/** The median spacing of sorted times (0 for fewer than two): the series' interval. */
export function medianStep(time: number[]): number {
  const steps = time
    .slice(1)
    .map((t, i) => t - time[i]!)
    .filter((d) => d > 0)
    .sort((a, b) => a - b);
  return steps.length === 0 ? 0 : steps[Math.floor(steps.length / 2)]!;
}

/**
 * The centred moving average of `window` points (odd): s̄ᵢ = mean{ sⱼ : |j − i| ≤ ⌊window/2⌋, sⱼ
 * not null, |tⱼ − tᵢ| ≤ ⌊window/2⌋ · 1.5 · step }. Neighbours across a gap in the data are not
 * neighbours; at the ends of the series and next to gaps the window shrinks. Unflagged neighbours
 * count: a lone high point among normal ones averages down, a sustained stretch does not.
 */
export function movingAverage(time: number[], score: Array<number | null>, window = 3): Array<number | null> {
  const half = Math.floor(window / 2);
  const step = medianStep(time);
  const reach = half * 1.5 * step;
  return score.map((s, i) => {
    if (s === null || s === undefined) {
      return null;
    }
    let sum = 0;
    let n = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(score.length - 1, i + half); j++) {
      const v = score[j];
      if (v !== null && v !== undefined && Math.abs(time[j]! - time[i]!) <= reach + 1e-9) {
        sum += v;
        n++;
      }
    }
    return sum / n;
  });
}

/** Runs of consecutive flagged points. */
export function flaggedRuns(anomaly: boolean[]): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < anomaly.length; i++) {
    if (anomaly[i] && (i === 0 || !anomaly[i - 1])) {
      let last = i;
      while (last + 1 < anomaly.length && anomaly[last + 1]) {
        last++;
      }
      runs.push({ first: i, last });
    }
  }
  return runs;
}

/**
 * The most representative moment of a scored series' flagged points: the 3-point moving average of
 * the score (`movingAverage`), the flagged run whose smoothed peak is highest (ties: the longer
 * run), and within it the point where the smoothed score peaks (ties: the higher own score, then the
 * earlier). With `within`, only flagged points in [from, to) are candidates, though smoothing still
 * uses their neighbours outside it. Undefined when no point is flagged (and scored).
 */
export function representativeMoment(
  time: number[],
  score: Array<number | null>,
  anomaly: boolean[],
  within?: [number, number]
): Moment | undefined {
  const smoothed = movingAverage(time, score);
  const candidate = (i: number) =>
    anomaly[i] === true &&
    smoothed[i] !== null &&
    smoothed[i] !== undefined &&
    (!within || (time[i]! >= within[0] && time[i]! < within[1]));
  let best: Moment | undefined;
  for (const run of flaggedRuns(time.map((_, i) => candidate(i)))) {
    let peak = run.first;
    for (let i = run.first + 1; i <= run.last; i++) {
      const d = smoothed[i]! - smoothed[peak]!;
      if (d > 0 || (d === 0 && (score[i] ?? 0) > (score[peak] ?? 0))) {
        peak = i;
      }
    }
    const moment: Moment = {
      index: peak,
      time: time[peak]!,
      score: score[peak]!,
      smoothed: smoothed[peak]!,
      run,
      start: time[run.first]!,
      end: time[run.last]!,
    };
    const length = (m: Moment) => m.run.last - m.run.first;
    if (
      !best ||
      moment.smoothed > best.smoothed ||
      (moment.smoothed === best.smoothed && length(moment) > length(best))
    ) {
      best = moment;
    }
  }
  return best;
}

/**
 * What the stream scored at this time yesterday: a row over the threshold is no alert when the
 * same time of the day before (within a tolerance) was over it too, at least as high. A nightly
 * log rotation, a cron burst, a pool scaled to zero at 22:00 are rare among the last day's rows,
 * so a forest isolates them every time (a tree's sample of 256 rows rarely holds one), but an
 * operator knows them for the daily routine they are. "A cycle seen yesterday is not an anomaly;
 * a value far outside what the same time yesterday allows is": the first occurrence alerts, a
 * repeat no rarer than yesterday's does not, and an incident at a new time of day, or one worse
 * than yesterday's routine at that time, still does.
 *
 * Kept: (time, calibrated score) of the rows of the last day and the tolerance, in arrival order.
 */
export interface YesterdayState {
  timesMs: number[];
  scores: number[];
}

const DAY_MS = 86_400_000;
/** How far from exactly one day earlier a repeat may be: jobs start a little late, clocks drift. */
const TOLERANCE_MS = 30 * 60_000;

export class YesterdayMemory {
  private times: number[];
  private scores: number[];
  /** Rows before this index are forgotten; they are dropped in one go once they are half the list. */
  private head = 0;

  constructor(state?: YesterdayState) {
    this.times = state ? [...state.timesMs] : [];
    this.scores = state ? [...state.scores] : [];
  }

  /** True when a row at `timeMs` one day (± the tolerance) earlier scored over `threshold`. */
  seen(timeMs: number, threshold: number): boolean {
    return this.highest(timeMs) > threshold;
  }

  /** The highest score of the rows one day (± the tolerance) before `timeMs`; 0 when there are none. */
  highest(timeMs: number): number {
    const from = timeMs - DAY_MS - TOLERANCE_MS;
    const to = timeMs - DAY_MS + TOLERANCE_MS;
    let top = 0;
    for (let i = this.head; i < this.times.length; i++) {
      const t = this.times[i]!;
      if (t >= from && t <= to && this.scores[i]! > top) top = this.scores[i]!;
    }
    return top;
  }

  /**
   * True when one of the last `rows` rows remembered (the newest included) scored over `threshold`:
   * an alert episode is still open (flags fewer than EPISODE_GAP rows apart are one episode).
   */
  recentlyOver(rows: number, threshold: number): boolean {
    for (let i = this.scores.length - 1; i >= Math.max(this.head, this.scores.length - rows); i--)
      if (this.scores[i]! > threshold) return true;
    return false;
  }

  /** Remembers a row; forgets rows more than a day and the tolerance older than the newest. */
  add(timeMs: number, score: number): void {
    if (!Number.isFinite(timeMs)) return;
    this.times.push(timeMs);
    this.scores.push(score);
    const horizon = timeMs - DAY_MS - TOLERANCE_MS;
    while (this.head < this.times.length && this.times[this.head]! < horizon) this.head++;
    // Dropping one row per push would move the whole list every row: drop them in bulk.
    if (this.head > this.times.length / 2) {
      this.times.splice(0, this.head);
      this.scores.splice(0, this.head);
      this.head = 0;
    }
  }

  snapshot(): YesterdayState {
    return { timesMs: this.times.slice(this.head), scores: this.scores.slice(this.head) };
  }
}

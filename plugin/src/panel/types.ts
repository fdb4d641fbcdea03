export interface TimelineOptions {
  /** Draw the score strip (score 0…1 and the threshold) under each metric chart. */
  showScoreStrip: boolean;
  /** Draw the expected range band when a query returns it. */
  showExpected: boolean;
  /** At most this many entities, the most anomalous first. */
  maxEntities: number;
  /** Height of the score strip in pixels. */
  scoreStripHeight: number;
}

export const DEFAULT_OPTIONS: TimelineOptions = {
  showScoreStrip: true,
  showExpected: true,
  maxEntities: 4,
  scoreStripHeight: 56,
};

import { explainRows, type IsolationForest, type Matrix } from '../engine/index.js';

/**
 * Rows explained per call of explainRows: small enough for progress reports now and then (the
 * forest's tables are built on the first call and kept for the next, see engine/explain/tables.ts).
 */
const CHUNK = 8192;

/**
 * Explains `rows` of x and hands each row's top feature (the index of its largest contribution,
 * the first on ties) to `found`; `progress` gets the number of rows done after each chunk.
 */
export function forEachTopFeature(
  forest: IsolationForest,
  x: Matrix,
  rows: ArrayLike<number>,
  found: (row: number, feature: number) => void,
  progress: (done: number) => void = () => undefined,
  chunkRows = CHUNK,
): void {
  for (let from = 0; from < rows.length; from += chunkRows) {
    const chunk = Array.prototype.slice.call(rows, from, Math.min(rows.length, from + chunkRows)) as number[];
    explainRows(forest, x, chunk).forEach(({ contributions }, i) => {
      let best = 0;
      for (let c = 1; c < contributions.length; c++) if (contributions[c]! > contributions[best]!) best = c;
      found(chunk[i]!, best);
    });
    progress(chunk.length);
  }
}

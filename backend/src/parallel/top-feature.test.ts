import { explain, IsolationForest, Random } from '../engine/index.js';
import { forEachTopFeature } from './top-feature.js';

describe('forEachTopFeature', () => {
  it("gives each asked-for row its largest contribution's feature, as explain does, in chunks with progress", () => {
    const rng = new Random(3);
    const cols = 5;
    const rows = 2500;
    const data = new Float64Array(rows * cols).map(() => rng.normal());
    for (let r = 0; r < rows; r += 50) data[r * cols + (r % cols)] = 12; // a spike in a different column
    const x = { rows, cols, data };
    const forest = IsolationForest.fit(x, { trees: 8, seed: 1 });
    const asked = Array.from({ length: 2300 }, (_, i) => (i * 7) % rows);
    const found = new Map<number, number>();
    const reports: number[] = [];
    // Chunks of 1000 and a last one of 300, each tabulated (256 rows or more).
    forEachTopFeature(
      forest,
      x,
      asked,
      (r, f) => found.set(r, f),
      (n) => reports.push(n),
      1000,
    );
    expect(reports.reduce((a, b) => a + b, 0)).toBe(asked.length);
    expect(reports).toEqual([1000, 1000, 300]);
    for (const r of asked.filter((_, i) => i % 5 === 0)) {
      const c = explain(forest, data.subarray(r * cols, (r + 1) * cols)).contributions;
      const best = c.indexOf(Math.max(...c));
      expect(found.get(r)).toBe(best);
    }
    for (let r = 0; r < rows; r += 350) expect(found.get(r)).toBe(r % cols);
  });
});

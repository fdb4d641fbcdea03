import { Random } from '../forest/random.js';
import { effectiveGroups } from './union.js';

/** `groups` histories of `n` scores: each a mix of a shared signal (weight `shared`) and its own noise. */
function histories(groups: number, n: number, shared: number, seed: number): Float64Array[] {
  const rng = new Random(seed);
  const out = Array.from({ length: groups }, () => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const common = rng.normal();
    for (const h of out) h[r] = shared * common + (1 - shared) * rng.normal();
  }
  return out;
}

describe('effectiveGroups', () => {
  it('counts groups that alert on the same rows as one', () => {
    const [a] = histories(1, 8192, 0, 1);
    // The same scores, and a monotone transform of them: the same rows exceed their tail start.
    expect(effectiveGroups([a!, a!, a!])).toBe(1);
    expect(effectiveGroups([a!, Float64Array.from(a!, (x) => Math.exp(3 * x) - 7)])).toBe(1);
  });

  it('counts independent groups about one each: (1 − (1 − q)^G) / q at the level q = 0.2 %', () => {
    for (const g of [2, 3, 5]) {
      const expected = (1 - 0.998 ** g) / 0.002;
      const measured = effectiveGroups(histories(g, 50_000, 0, 2 + g));
      expect(Math.abs(measured - expected)).toBeLessThan(0.05 * g);
      expect(measured).toBeLessThanOrEqual(g);
    }
  });

  it('counts groups that never alert together as G, and partly dependent ones in between', () => {
    const n = 5000;
    // Each group's highest scores on rows of its own.
    const disjoint = [0, 1, 2].map((g) => Float64Array.from({ length: n }, (_, r) => (r % 3 === g ? r : 0)));
    expect(effectiveGroups(disjoint)).toBe(3);
    const some = effectiveGroups(histories(2, 20_000, 0.8, 8));
    expect(some).toBeGreaterThan(1.1);
    expect(some).toBeLessThan(1.9);
  });

  it('reads histories aligned index by index, and splits evenly when there are too few rows', () => {
    const [a, b] = histories(2, 4000, 0, 9);
    const longer = new Float64Array(6000);
    longer.set(a!, 0);
    longer.set(histories(1, 2000, 0, 10)[0]!, 4000);
    // Rows past the shortest history are not compared with anything.
    expect(effectiveGroups([longer, a!])).toBe(1);
    expect(effectiveGroups([longer, b!])).toBe(effectiveGroups([a!, b!]));
    // The same rows in another order are other rows.
    expect(effectiveGroups([a!, a!.slice().reverse()])).toBeGreaterThan(1.5);
    expect(effectiveGroups([a!.subarray(0, 20), b!.subarray(0, 20)])).toBe(2);
    expect(effectiveGroups([a!])).toBe(1);
    expect(effectiveGroups([])).toBe(1);
  });
});

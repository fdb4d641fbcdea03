import { quietCorpus } from './quiet-corpus.js';

describe('quietCorpus', () => {
  it('is seeded: the same seed gives the same week, another seed another', () => {
    const a = quietCorpus(3, 2);
    const b = quietCorpus(3, 2);
    const c = quietCorpus(4, 2);
    expect(a.map((s) => Array.from(s.values.slice(0, 50)))).toEqual(
      b.map((s) => Array.from(s.values.slice(0, 50))),
    );
    expect(a[0]!.values[10]).not.toBe(c[0]!.values[10]);
  });

  it('has a minute per row in time order, gaps as missing rows, and one value per field', () => {
    for (const s of quietCorpus(0, 7)) {
      expect(s.values.length).toBe(s.timeMs.length * s.fields.length);
      for (let i = 1; i < s.timeMs.length; i++)
        expect(s.timeMs[i]! - s.timeMs[i - 1]!).toBeGreaterThanOrEqual(60_000);
    }
    const gaps = quietCorpus(0, 7).find((s) => s.name === 'gaps-and-missing')!;
    expect(gaps.timeMs.length).toBeLessThan(7 * 1440);
    expect(Array.from(gaps.values).some(Number.isNaN)).toBe(true);
  });
});

import { plainDecimal } from './number.js';

/** A small seeded generator (mulberry32), so a failure names a case that can be run again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('plainDecimal', () => {
  it('gives exactly what Number() gives, or leaves the cell to it', () => {
    const next = random(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const digits = (k: number): string =>
      Array.from({ length: k }, () => pick('0123456789'.split(''))).join('');
    let fast = 0;
    for (let k = 0; k < 200_000; k++) {
      const s =
        pick(['', '', '-', '+']) +
        digits(Math.floor(next() * 12)) +
        pick(['', '.', '.' + digits(Math.floor(next() * 12))]) +
        pick(['', '', `e${pick(['', '-', '+'])}${digits(Math.floor(next() * 3) + 1)}`, 'e', 'x']);
      const v = plainDecimal(s);
      if (v === undefined) continue;
      fast++;
      if (!Object.is(v, Number(s))) throw new Error(`'${s}': ${v} against Number's ${Number(s)}`);
    }
    expect(fast).toBeGreaterThan(50_000);
  });

  it('parses the cells metrics files hold, −0 included', () => {
    for (const s of [
      '0',
      '-0',
      '-0.0',
      '0.185185',
      '4.3610',
      '1704067200',
      '.5',
      '5.',
      '1e5',
      '2.5E-3',
      '+7',
    ])
      expect(Object.is(plainDecimal(s), Number(s))).toBe(true);
  });

  it('leaves to Number() what is not a plain decimal or needs its general rounding', () => {
    for (const s of [
      '',
      '.',
      '-',
      'e5',
      '1e',
      '0x10',
      'Infinity',
      'NaN',
      ' 1',
      '1 ',
      '1,5',
      '12345678901234567',
      '1e400',
      '1e-30',
    ])
      expect(plainDecimal(s)).toBeUndefined();
  });
});

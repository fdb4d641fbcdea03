import { Random } from '../forest/random.js';
import { validateData, type CheckResult, type ValidationInput } from './checks.js';

function normalColumn(n: number, mean: number, sd: number, seed: number): Float64Array {
  const rng = new Random(seed);
  return Float64Array.from({ length: n }, () => mean + sd * rng.normal());
}

function window(seed: number, overrides: Partial<ValidationInput> = {}): ValidationInput {
  const n = 1000;
  return {
    columns: ['cpu', 'mem'],
    values: [normalColumn(n, 40, 5, seed), normalColumn(n, 60, 3, seed + 1)],
    timeMs: Float64Array.from({ length: n }, (_, i) => i * 60_000),
    ...overrides,
  };
}

const reference = window(1);
const check = (
  name: CheckResult['check'],
  input: ValidationInput,
  ref: ValidationInput | undefined = reference,
): CheckResult => validateData(input, ref).checks.find((c) => c.check === name)!;

describe('validation: each check passes on clean data and fails on what it is for', () => {
  it('passes a clean window against its reference', () => {
    const report = validateData(window(7), reference);
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['schema', 'pass'],
      ['ranges', 'pass'],
      ['missing', 'pass'],
      ['duplicates', 'pass'],
      ['outliers', 'pass'],
      ['statistics', 'pass'],
    ]);
    expect(report.status).toBe('pass');
  });

  it('schema: a missing column and text in a numeric column', () => {
    const w = window(7);
    const c = check('schema', { ...w, columns: ['cpu', 'disk'], nonNumeric: [3, 0] });
    expect(c.status).toBe('fail');
    expect(c.message).toContain('columns mem are missing');
    expect(c.message).toContain('columns cpu hold text');
  });

  it('ranges: values beyond the reference range', () => {
    const w = window(7);
    w.values[0] = w.values[0]!.map((v, i) => (i < 50 ? v + 100 : v));
    const c = check('ranges', w);
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/outside the expected range in cpu \(5\.0%\)/);
  });

  it('missing: a column with gaps', () => {
    const w = window(7);
    w.values[1] = w.values[1]!.map((v, i) => (i % 5 === 0 ? Number.NaN : v));
    const c = check('missing', w);
    expect(c.status).toBe('fail');
    expect(c.message).toContain('mem (20.0%)');
  });

  it('duplicates: repeated timestamps', () => {
    const w = window(7);
    w.timeMs = w.timeMs!.map((t, i) => (i === 10 ? w.timeMs![9]! : t));
    const c = check('duplicates', w);
    expect(c.status).toBe('fail');
    expect(c.message).toContain('1 rows repeat an earlier timestamp');
  });

  it('outliers: a window full of extreme values', () => {
    const w = window(7);
    w.values[0] = w.values[0]!.map((v, i) => (i % 10 === 0 ? v + 500 : v));
    const c = check('outliers', w, undefined);
    expect(c.status).toBe('fail');
    expect(c.message).toContain('cpu (10.0%)');
  });

  it('statistics: a shifted mean, and a constant column', () => {
    const w = window(7);
    w.values[0] = w.values[0]!.map((v) => v + 10);
    w.values[1] = new Float64Array(w.values[1]!.length).fill(60);
    const c = check('statistics', w);
    expect(c.status).toBe('fail');
    expect(c.message).toContain('cpu: mean');
    expect(c.message).toContain('mem: constant at 60');
  });
});

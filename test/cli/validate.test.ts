import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

describe('isoscope validate', () => {
  const dir = scratchDir('validate');
  const lines = (rows: number, f: (i: number) => string): string =>
    `timestamp,cpu,mem\n${Array.from({ length: rows }, (_, i) => `${1700000000 + 60 * i},${f(i)}`).join('\n')}\n`;
  const reference = join(dir, 'ref.csv');
  writeFileSync(
    reference,
    lines(500, (i) => `${(40 + ((i * 0.71) % 7)).toFixed(3)},${(60 + ((i * 0.29) % 5)).toFixed(3)}`),
  );

  it('exits 0 on clean data and prints a line per check', () => {
    const good = join(dir, 'good.csv');
    writeFileSync(
      good,
      lines(300, (i) => `${(41 + ((i * 0.37) % 5)).toFixed(3)},${(61 + ((i * 0.53) % 3)).toFixed(3)}`),
    );
    const r = isoscope(['validate', '--input', good, '--reference', reference]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['schema', 'ranges', 'missing', 'duplicates', 'outliers', 'statistics'])
      expect(r.stdout).toContain(name);
    expect(r.stdout).toContain('overall: pass');
  });

  it('exits 1 when a check fails, and the JSON says which', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(
      bad,
      lines(300, (i) => `${i % 3 === 0 ? 'n/a' : 40},${i % 2 ? '' : 60}`),
    );
    const r = isoscope(['validate', '--input', bad, '--reference', reference, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { status: string; checks: { check: string; status: string }[] };
    expect(report.status).toBe('fail');
    expect(report.checks.find((c) => c.check === 'schema')!.status).toBe('fail');
    expect(report.checks.find((c) => c.check === 'missing')!.status).toBe('fail');
  });

  it('exits 2 when the file cannot be read', () => {
    const r = isoscope(['validate', '--input', join(dir, 'nope.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.csv: no such file');
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** A daily-patterned single series, 5-minute steps, with two spikes: the shape the defaults must handle untuned. */
function seriesCsv(rows: number): string {
  const lines = ['timestamp,value'];
  let s = 12345;
  const noise = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  for (let i = 0; i < rows; i++) {
    const t = new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString();
    const daily = 50 + 20 * Math.sin((2 * Math.PI * i) / 288);
    const spike = i === 1500 || i === 2500 ? 60 : 0;
    lines.push(`${t},${(daily + 4 * noise() + spike).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('isoscope replay', () => {
  const dir = scratchDir('replay');
  const input = join(dir, 'in.csv');
  const text = seriesCsv(3000);
  writeFileSync(input, text);
  const replay = (file: string, out: string, extra: string[] = []): ReturnType<typeof isoscope> =>
    isoscope(['replay', '--input', file, '--output', out, ...extra]);

  it('writes timestamp,score,is_anomaly,top_feature for every row: 0 while warming up, full precision after', () => {
    const out = join(dir, 'out.csv');
    const r = replay(input, out);
    // stderr is a pipe here, so no progress is drawn however long the run takes: nothing on it.
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // A shingle of 8 and the delta.
    expect(r.stdout).toMatch(/replayed 3000 rows .*1 column, 9 features/);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('timestamp,score,is_anomaly,top_feature');
    expect(lines).toHaveLength(3001);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows[0]).toEqual(['2024-01-01T00:00:00.000Z', '0', '0', '']);
    const scored = rows.filter((row) => row[1] !== '0');
    expect(scored.length).toBeGreaterThan(2000);
    for (const row of scored) expect(String(Number(row[1]))).toBe(row[1]); // shortest round-trip text, never rounded
    // Each spike stays in the shingle for 8 rows; within them it scores among the top 2 % of the
    // series (a forest sees an out-of-range value in 1 of 8 dimensions, so it is no landslide).
    const sorted = scored.map((row) => Number(row[1])).sort((a, b) => a - b);
    const p98 = sorted[Math.floor(0.98 * sorted.length)]!;
    for (const spike of [1500, 2500]) {
      const peak = Math.max(...rows.slice(spike, spike + 8).map((row) => Number(row[1])));
      expect(peak).toBeGreaterThanOrEqual(p98);
    }
    for (const row of rows) if (row[2] === '1') expect(row[3]).toMatch(/^value(\.lag\d|\.delta)?$/);
  });

  it('is deterministic: the same seed gives byte-identical output, another seed does not', () => {
    const [a, b, c] = ['a.csv', 'b.csv', 'c.csv'].map((f) => join(dir, f));
    replay(input, a!, ['--seed', '3']);
    replay(input, b!, ['--seed', '3']);
    replay(input, c!, ['--seed', '4']);
    expect(readFileSync(a!, 'utf8')).toBe(readFileSync(b!, 'utf8'));
    expect(readFileSync(a!, 'utf8')).not.toBe(readFileSync(c!, 'utf8'));
  });

  it('is causal: the first k output rows do not change when later input rows are removed', () => {
    const full = join(dir, 'full.csv');
    replay(input, full);
    const fullRows = readFileSync(full, 'utf8').split('\n');
    for (const k of [700, 1501, 2222]) {
      const prefix = join(dir, `prefix-${k}.csv`);
      writeFileSync(
        prefix,
        `${text
          .split('\n')
          .slice(0, k + 1)
          .join('\n')}\n`,
      );
      const out = join(dir, `out-${k}.csv`);
      expect(replay(prefix, out).code).toBe(0);
      expect(
        readFileSync(out, 'utf8')
          .split('\n')
          .slice(0, k + 1),
      ).toEqual(fullRows.slice(0, k + 1));
    }
  });

  it.each([
    [
      'timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:05:00Z,high\n',
      "line 3, column 'value': 'high' is not a finite number",
    ],
    [
      'timestamp,value\n2024-01-01T00:05:00Z,1\nlater,2\n',
      "line 3, column 'timestamp': 'later' is not a timestamp",
    ],
    ['value\n1\n2\n', 'no time column: replay needs timestamp, time or _time'],
  ])('refuses bad input with exit code 2 naming where: %j', (content, message) => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, content);
    const r = replay(bad, join(dir, 'never.csv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('with --smoothing N judges the mean of the last N rows, and --alerts-per-day sets the budget', () => {
    const run = (extra: string[]): { scores: number[]; flags: number } => {
      const out = join(dir, `options${extra.join('')}.csv`);
      expect(replay(input, out, extra).code).toBe(0);
      const rows = readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      return { scores: rows.map((r) => Number(r[1])), flags: rows.filter((r) => r[2] === '1').length };
    };
    const own = run([]); // one column: a shingle, so no smoothing by default
    expect(run(['--smoothing', '3']).scores).not.toEqual(own.scores);
    // Scores are calibrated: 0.5 is the budget's threshold, so a larger budget flags at least as much.
    const generous = run(['--alerts-per-day', '50']);
    expect(generous.flags).toBeGreaterThan(own.flags);
    for (const [flag, value] of [
      ['--smoothing', '0'],
      ['--alerts-per-day', '0'],
      ['--alerts-per-day', 'many'],
    ] as const) {
      const r = replay(input, join(dir, 'never.csv'), [flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });

  it('refuses a window smaller than the warm-up', () => {
    const r = replay(input, join(dir, 'never.csv'), ['--warmup', '1000', '--window', '500']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--window (500) must be at least --warmup (1000)');
  });
});

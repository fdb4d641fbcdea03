import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** A small metrics CSV: three features with Gaussian noise (seeded), cpu spikes at the given rows. */
function metricsCsv(rows: number, spikes: number[], seed: number, extra = ''): string {
  let s = seed >>> 0;
  const uniform = (): number => {
    // mulberry32: a tiny seeded generator, enough for test data
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const lines = [`timestamp,cpu,mem,disk${extra ? ',' + extra : ''}`];
  for (let i = 0; i < rows; i++) {
    const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
    const spike = spikes.includes(i);
    const cpu = 35 + 3 * gauss() + (spike ? 40 : 0);
    // A spike moves cpu alone, so the explanation has one right answer.
    const mem = spike ? 50 : 50 + 2 * gauss();
    const disk = spike ? 10 : 10 + 0.5 * gauss();
    lines.push(
      `${t},${cpu.toFixed(3)},${mem.toFixed(3)},${disk.toFixed(3)}${extra ? `,${spike ? 1 : 0}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('isoscope score', () => {
  const dir = scratchDir('score');
  const train = join(dir, 'train.csv');
  const input = join(dir, 'in.csv');
  writeFileSync(train, metricsCsv(2000, [], 1));
  writeFileSync(input, metricsCsv(500, [100, 200, 300], 2, 'label'));

  it('writes one row per input row with timestamp, score, is_anomaly and the top feature of flagged rows', () => {
    const out = join(dir, 'out.csv');
    const r = isoscope([
      'score',
      '--train',
      train,
      '--input',
      input,
      '--output',
      out,
      '--label-column',
      'label',
    ]);
    // Nothing but progress (which a loaded machine prints after a second): no warning, no error.
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/^[\w ]+: \d+% \(/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('timestamp,score,is_anomaly,top_feature');
    expect(lines).toHaveLength(501);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows[0]![0]).toBe('2024-01-01T00:00:00.000Z'); // the input's timestamp, verbatim
    for (const spike of [100, 200, 300])
      expect(rows[spike]).toEqual([expect.any(String), expect.any(String), '1', 'cpu']);
    for (const row of rows) {
      const score = Number(row[1]);
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThanOrEqual(1);
      expect(row[3] === '').toBe(row[2] === '0');
    }
    expect(r.stdout).toMatch(/scored 500 rows .* flagged/);
    expect(r.stdout).toMatch(/incidents found 3\/3/);
  });

  it('gives the same output for the same seed, on one thread or two', () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    expect(
      isoscope([
        'score',
        '--train',
        train,
        '--input',
        input,
        '--output',
        a,
        '--label-column',
        'label',
        '--seed',
        '7',
        '--workers',
        '1',
      ]).code,
    ).toBe(0);
    expect(
      isoscope([
        'score',
        '--train',
        train,
        '--input',
        input,
        '--output',
        b,
        '--label-column',
        'label',
        '--seed',
        '7',
        '--workers',
        '2',
      ]).code,
    ).toBe(0);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
  });

  it('with --out-of-range isolate scores values far beyond the training data higher, on worker threads too', () => {
    const scoresOf = (mode: string): string[][] => {
      const out = join(dir, `${mode}.csv`);
      const r = isoscope(
        ['score', '--train', train, '--input', input, '--output', out, '--label-column', 'label'].concat([
          '--out-of-range',
          mode,
          '--workers',
          '2',
        ]),
      );
      expect(r.code).toBe(0);
      return readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
    };
    const clamp = scoresOf('clamp');
    const isolate = scoresOf('isolate');
    for (const spike of [100, 200, 300]) {
      expect(Number(isolate[spike]![1])).toBeGreaterThan(Number(clamp[spike]![1]) + 0.05);
      expect(isolate[spike]![3]).toBe('cpu');
    }
  });

  it.each([
    [
      ['--train', 'TRAIN', '--input', 'IN', '--output', 'OUT', '--out-of-range', 'wrap'],
      "--out-of-range must be 'clamp' or 'isolate', got 'wrap'",
    ],
    [
      ['--input', 'x.csv', '--output', 'y.csv'],
      '--train FILE (fit a forest here) or --model FILE (from isoscope train) is required',
    ],
    [['--train', '/nope/train.csv', '--input', 'IN', '--output', 'OUT'], '/nope/train.csv: no such file'],
    [
      ['--train', 'TRAIN', '--input', 'IN', '--output', 'OUT', '--trees', 'many'],
      "--trees must be an integer from 1 to 10000, got 'many'",
    ],
    [
      ['--train', 'TRAIN', '--input', 'IN', '--output', 'OUT', '--contamination', '0.9'],
      "--contamination must be 'auto' or a number in (0, 0.5]",
    ],
    [
      ['--train', 'TRAIN', '--input', 'IN', '--output', 'OUT', '--label-column', 'nope'],
      "--label-column 'nope' is in neither",
    ],
    [['--train', 'TRAIN', '--input', 'IN', '--output', 'OUT', '--colour'], "Unknown option '--colour'"],
  ])('refuses %j with exit code 2 and a one-line message', (args, message) => {
    const resolved = args.map((a) =>
      a === 'TRAIN' ? train : a === 'IN' ? input : a === 'OUT' ? join(dir, 'never.csv') : a,
    );
    const r = isoscope(['score', ...resolved]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
  });

  it('names the file, line and column of a bad cell', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'timestamp,cpu,mem,disk\n2024-01-01T00:00:00Z,1,2,3\n2024-01-01T00:01:00Z,1,oops,3\n');
    const r = isoscope(['score', '--train', train, '--input', bad, '--output', join(dir, 'never.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}, line 3, column 'mem': 'oops' is not a finite number`);
  });

  it("fills an empty cell with its column's last value; rows before a first value have score 0", () => {
    const text = readFileSync(input, 'utf8').split('\n');
    text[1] = text[1]!.replace(/,[^,]*,/, ',,'); // row 0 has no cpu yet
    text[51] = text[51]!.replace(/,[^,]*,/, ',,'); // row 50 lost its cpu
    const gappy = join(dir, 'gappy.csv');
    writeFileSync(gappy, text.join('\n'));
    const out = join(dir, 'gappy-scores.csv');
    const r = isoscope([
      'score',
      '--train',
      train,
      '--input',
      gappy,
      '--output',
      out,
      '--label-column',
      'label',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "1 empty cell took the last value of their column; 1 row before a column's first value have score 0",
    );
    const rows = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(rows).toHaveLength(500);
    expect(rows[0]!.slice(1)).toEqual(['0.000000', '0', '']);
    expect(Number(rows[50]![1])).toBeGreaterThan(0);
    // With row 49's cpu in its place, row 50 scores as a row with those values would.
    const same = join(dir, 'same.csv');
    const cpu49 = text[50]!.split(',')[1];
    writeFileSync(same, `${text[0]}\n${text[51]!.replace(/,,/, `,${cpu49},`)}\n`);
    const one = join(dir, 'same-scores.csv');
    expect(
      isoscope(['score', '--train', train, '--input', same, '--output', one, '--label-column', 'label']).code,
    ).toBe(0);
    expect(readFileSync(one, 'utf8').trimEnd().split('\n')[1]!.split(',')[1]).toBe(rows[50]![1]);
  });

  it('names columns the model was not trained on', () => {
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'cpu,mem,net\n1,2,3\n');
    const r = isoscope(['score', '--train', train, '--input', other, '--output', join(dir, 'never.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing feature column 'disk'");
  });
});

describe('isoscope', () => {
  it('prints help listing the commands', () => {
    const r = isoscope(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('score');
  });

  it('refuses an unknown command with exit code 2', () => {
    const r = isoscope(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});

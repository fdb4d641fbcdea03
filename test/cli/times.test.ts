import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** Local wall-clock text as NAB writes it: `2014-11-02 01:05:00`, no zone. */
function wallClock(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A seeded noisy daily cycle, one value per row. */
function values(rows: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: rows }, (_, i) => {
    s = (s * 16807) % 2147483647;
    return 50 + 20 * Math.sin((2 * Math.PI * i) / 288) + 4 * (s / 2147483647 - 0.5);
  });
}

/**
 * A NAB-style `timestamp,value` file in local time, 5-minute steps, where daylight saving ends:
 * after 01:55 the clock goes back to 01:00, so the hour repeats and one row steps back 55 minutes.
 */
/** The warnings among stderr's lines (a slow run also reports its progress there). */
function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes(': warning: '));
}

function dstCsv(rows: number, fallBackAt: number): string {
  const start = Date.UTC(2014, 9, 31); // local midnight, written without a zone
  const v = values(rows, 7);
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    const local = start + i * 300_000 - (i >= fallBackAt ? 3_600_000 : 0);
    lines.push(`${wallClock(local)},${v[i]!.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('real timestamps: repeated and backward times are kept in file order with a warning', () => {
  const dir = scratchDir('times');
  // 2014-11-02 02:00 local is row 600 of a file starting 2014-10-31 00:00 (576 + 24).
  const dst = join(dir, 'dst.csv');
  writeFileSync(dst, dstCsv(1400, 600));
  const dstLine = 602; // header is line 1, row k is line k + 2

  it('replay: one warning naming the line, and every row scored in file order', () => {
    const out = join(dir, 'dst-scores.csv');
    const r = isoscope(['replay', '--input', dst, '--output', out]);
    expect(r.code).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      `isoscope replay: warning: ${dst}, line ${dstLine}, column 'timestamp': '2014-11-02 01:00:00' is 55 minutes before line ${dstLine - 1}'s '2014-11-02 01:55:00' (daylight saving or a clock step?): kept in file order`,
    ]);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1401);
    const input = readFileSync(dst, 'utf8').trimEnd().split('\n');
    // The times as written, in the order written: the repeated hour appears twice.
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(input.slice(1).map((l) => l.split(',')[0]));
    const scored = lines.slice(1).filter((l) => Number(l.split(',')[1]) > 0);
    expect(scored.length).toBeGreaterThan(800);
  });

  it('replay: a time written six times in a row is one warning for its five repeats', () => {
    const text = dstCsv(700, 10_000).split('\n');
    // Rows 300-305 all carry row 300's time (a collector that stamped a batch at once).
    for (let k = 301; k <= 305; k++)
      text[k + 1] = `${text[301]!.split(',')[0]},${text[k + 1]!.split(',')[1]}`;
    const file = join(dir, 'six.csv');
    writeFileSync(file, text.join('\n'));
    const r = isoscope(['replay', '--input', file, '--output', join(dir, 'six-scores.csv')]);
    expect(r.code).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      `isoscope replay: warning: ${file}, line 303, column 'timestamp': '2014-11-01 01:00:00' repeats the time of line 302, 5 rows up to line 307: kept in file order`,
    ]);
  });

  it('caps the warnings: the first five problems, then one line counting the rest', () => {
    // A clock that steps back a second every 10 rows.
    const lines = ['time,value'];
    const v = values(600, 3);
    for (let i = 0; i < 600; i++)
      lines.push(`${1_700_000_000 + i - Math.floor(i / 10) * 2},${v[i]!.toFixed(2)}`);
    const file = join(dir, 'jitter.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = isoscope(['replay', '--input', file, '--output', join(dir, 'jitter-scores.csv')]);
    expect(r.code).toBe(0);
    const shown = warnings(r.stderr);
    expect(shown).toHaveLength(6);
    expect(shown[0]).toBe(
      `isoscope replay: warning: ${file}, line 12, column 'time': '1700000008' is 1 second before line 11's '1700000009' (daylight saving or a clock step?): kept in file order`,
    );
    expect(shown[5]).toBe(
      `isoscope replay: warning: ${file}: 54 more time problems (54 rows) after line 52, each kept in file order`,
    );
  });

  it('score, train and validate take the same file with the same warnings; an empty time takes the previous one', () => {
    const text = readFileSync(dst, 'utf8').split('\n');
    text[800] = `,${text[800]!.split(',')[1]}`; // line 801 lost its time
    const before = text[799]!.split(',')[0];
    const file = join(dir, 'dst-gap.csv');
    writeFileSync(file, text.join('\n'));
    const warning = `${file}, line ${dstLine}, column 'timestamp': '2014-11-02 01:00:00' is 55 minutes before`;
    const gap = `${file}, line 801, column 'timestamp': no time: taken as line 800's '${before}', kept in file order`;

    const out = join(dir, 'dst-batch.csv');
    const s = isoscope(['score', '--train', file, '--input', file, '--output', out]);
    expect(s.code).toBe(0);
    // The file is read once when it is both the training data and the input.
    expect(warnings(s.stderr)).toEqual([
      expect.stringContaining(`isoscope score: warning: ${warning}`),
      `isoscope score: warning: ${gap}`,
    ]);
    // Scored against itself, with a note on what that means for the alert budget.
    expect(s.stderr).toContain(`isoscope score: note: ${file} is both the training data and the input`);
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(rows).toHaveLength(1401);
    expect(rows[800]).toMatch(/^,0\.\d{6},[01],/); // echoed as written: empty

    const t = isoscope(['train', '--input', file, '--out', join(dir, 'dst.isoscope')]);
    expect(t.code).toBe(0);
    expect(warnings(t.stderr)).toHaveLength(2);
    expect(t.stderr).toContain(`isoscope train: warning: ${warning}`);

    const v = isoscope(['validate', '--input', file]);
    expect(v.code).not.toBe(2);
    expect(v.stderr).toContain(`isoscope validate: warning: ${warning}`);
    expect(v.stderr).toContain(`isoscope validate: warning: ${gap}`);
    // The repeated hour (12 rows) and the filled-in time are a finding of the duplicates check, not a refusal.
    expect(v.stdout).toMatch(/duplicates\s+13 rows repeat an earlier timestamp/);
  });

  it('refuses only what cannot be read: a time that is no time, with exit code 2 on one line', () => {
    const file = join(dir, 'noon.csv');
    writeFileSync(file, 'timestamp,value\n2024-01-01 00:00:00,1\nnoon,2\n');
    for (const command of [
      ['replay', '--input', file, '--output', join(dir, 'never.csv')],
      ['score', '--train', file, '--input', file, '--output', join(dir, 'never.csv')],
      ['validate', '--input', file],
    ]) {
      const r = isoscope(command);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        `isoscope ${command[0]}: ${file}, line 3, column 'timestamp': 'noon' is not a timestamp (ISO 8601 or epoch seconds/milliseconds)`,
      ]);
    }
  });
});

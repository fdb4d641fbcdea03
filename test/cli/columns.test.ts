import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** A seeded series around `level`: noise of ±2, a slow cycle. */
function series(rows: number, level: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: rows }, (_, i) => {
    s = (s * 16807) % 2147483647;
    return level + 3 * Math.sin(i / 30) + 4 * (s / 2147483647 - 0.5);
  });
}

const minute = (i: number): string => new Date(Date.UTC(2024, 2, 1) + i * 60_000).toISOString();

/** Rows of CSV output after the header, split into cells. */
function rowsOf(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

describe('column flags: --time-column, --ignore-column, --entity-column, and hints for text columns', () => {
  const dir = scratchDir('columns');
  const a = series(700, 20, 11);
  const b = series(700, 80, 12);
  // Two hosts in one long file, interleaved minute by minute: the shape an InfluxDB export has.
  const fleet = join(dir, 'fleet.csv');
  writeFileSync(
    fleet,
    `timestamp,host,cpu\n${a.flatMap((v, i) => [`${minute(i)},web-a,${v.toFixed(3)}`, `${minute(i)},web-b,${b[i]!.toFixed(3)}`]).join('\n')}\n`,
  );
  const alone = (name: string, values: number[], from = 0, to = values.length): string => {
    const file = join(dir, `${name}.csv`);
    writeFileSync(
      file,
      `timestamp,cpu\n${values
        .slice(from, to)
        .map((v, i) => `${minute(from + i)},${v.toFixed(3)}`)
        .join('\n')}\n`,
    );
    return file;
  };

  it('a text column gets a hint naming the flags, on one line with exit code 2', () => {
    const out = join(dir, 'never.csv');
    const hint = `${fleet}, line 2, column 'host': column 'host' is text: use --entity-column host or --ignore-column host`;
    for (const args of [
      ['score', '--train', fleet, '--input', fleet, '--output', out],
      ['replay', '--input', fleet, '--output', out],
      ['train', '--input', fleet, '--out', out],
    ]) {
      const r = isoscope(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`isoscope ${args[0]}: ${hint}\n`);
    }
  });

  it('--ignore-column works the same in score, replay, train and validate', () => {
    const out = join(dir, 'ignored.csv');
    for (const args of [
      ['score', '--train', fleet, '--input', fleet, '--output', out],
      ['replay', '--input', fleet, '--output', out],
      ['train', '--input', fleet, '--out', join(dir, 'ignored.isoscope')],
      ['validate', '--input', fleet],
    ]) {
      const r = isoscope([...args, '--ignore-column', 'host']);
      expect(r.code).not.toBe(2);
      expect(r.stderr).not.toMatch(/host/);
    }
  });

  it('validate --entity-column: two hosts at every minute are no repeated time', () => {
    const plain = isoscope(['validate', '--input', fleet, '--ignore-column', 'host']);
    expect(plain.stdout).toMatch(/700 rows repeat an earlier timestamp/);
    expect(plain.stderr).toContain('repeats the time of line 2');
    const r = isoscope(['validate', '--input', fleet, '--entity-column', 'host']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('overall: pass');
  });

  it('--time-column takes a time column of any name; without it, the column gets a hint', () => {
    const file = join(dir, 'dated.csv');
    writeFileSync(
      file,
      `Date,cpu\n${a.map((v, i) => `${minute(i).slice(0, 16)},${v.toFixed(3)}`).join('\n')}\n`,
    );
    const out = join(dir, 'dated-scores.csv');
    const refused = isoscope(['score', '--train', file, '--input', file, '--output', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `isoscope score: ${file}, line 2, column 'Date': column 'Date' holds times: use --time-column Date or --ignore-column Date\n`,
    );
    const r = isoscope(['score', '--train', file, '--input', file, '--output', out, '--time-column', 'Date']);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('Date,score,is_anomaly,top_feature');
    expect(rowsOf(out)[0]![0]).toBe('2024-03-01T00:00');
    const replayed = isoscope(['replay', '--input', file, '--output', out, '--time-column', 'Date']);
    expect(replayed.code).toBe(0);
    expect(rowsOf(out)).toHaveLength(700);
    const missing = isoscope(['replay', '--input', file, '--output', out, '--time-column', 'When']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${file}, line 1: no time column 'When' (columns: Date, cpu)`);
  });

  it('replay --entity-column: one stream per host, output in the input row order, each host as if replayed alone', () => {
    const out = join(dir, 'fleet-replay.csv');
    const r = isoscope(['replay', '--input', fleet, '--output', out, '--entity-column', 'host']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 streams, one per host/);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('timestamp,host,score,is_anomaly,top_feature');
    const rows = rowsOf(out);
    expect(rows.map((row) => row[1])).toEqual(a.flatMap(() => ['web-a', 'web-b']));
    for (const [host, values] of [
      ['web-a', a],
      ['web-b', b],
    ] as const) {
      const own = join(dir, `${host}-replay.csv`);
      expect(isoscope(['replay', '--input', alone(host, values), '--output', own]).code).toBe(0);
      const expected = rowsOf(own).map(([t, ...rest]) => [t, host, ...rest]);
      expect(rows.filter((row) => row[1] === host)).toEqual(expected);
    }
  });

  it('score --entity-column: one model per host, each judging its own host', () => {
    // The input: web-a jumps to web-b's level for 20 minutes. A model of the whole fleet knows
    // that level; web-a's own model does not.
    const input = join(dir, 'fleet-input.csv');
    const jump = a.map((v, i) => (i >= 600 && i < 620 ? v + 60 : v));
    const inputLines = jump
      .slice(500)
      .flatMap((v, k) => [
        `${minute(500 + k)},web-a,${v.toFixed(3)}`,
        `${minute(500 + k)},web-b,${b[500 + k]!.toFixed(3)}`,
      ]);
    writeFileSync(input, `timestamp,host,cpu\n${inputLines.join('\n')}\n`);
    const train = join(dir, 'fleet-train.csv');
    writeFileSync(
      train,
      `timestamp,host,cpu\n${a
        .slice(0, 500)
        .flatMap((v, i) => [`${minute(i)},web-a,${v.toFixed(3)}`, `${minute(i)},web-b,${b[i]!.toFixed(3)}`])
        .join('\n')}\n`,
    );
    const out = join(dir, 'fleet-scores.csv');
    const r = isoscope([
      'score',
      '--train',
      train,
      '--input',
      input,
      '--output',
      out,
      '--entity-column',
      'host',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 models, one per host/);
    const rows = rowsOf(out);
    expect(rows).toHaveLength(400);
    const jumped = rows.filter((row, k) => row[1] === 'web-a' && k >= 200 && k < 240);
    expect(jumped).toHaveLength(20);
    for (const row of jumped) expect(row[3]).toBe('1');
    // Each host's rows score as with a model trained on that host alone.
    const aTrain = alone('a-train', a, 0, 500);
    const aInput = alone('a-input', jump, 500);
    const own = join(dir, 'a-scores.csv');
    expect(isoscope(['score', '--train', aTrain, '--input', aInput, '--output', own]).code).toBe(0);
    expect(rows.filter((row) => row[1] === 'web-a').map(([t, , ...rest]) => [t, ...rest])).toEqual(
      rowsOf(own),
    );

    // A host with no training rows has no model: named with its line.
    writeFileSync(input, `timestamp,host,cpu\n${minute(0)},web-a,20\n${minute(0)},web-c,20\n`);
    const unknown = isoscope([
      'score',
      '--train',
      train,
      '--input',
      input,
      '--output',
      out,
      '--entity-column',
      'host',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `isoscope score: ${input}, line 3, column 'host': host 'web-c' has no rows in ${train}: there is no model for it\n`,
    );
  });
});

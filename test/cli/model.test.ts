import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** One metric with a daily cycle (5-minute steps) and seeded noise; spikes at the given rows. */
function seriesCsv(rows: number, seed: number, spikes: number[] = [], offset = 0): string {
  let s = seed;
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    s = (s * 16807) % 2147483647;
    const t = new Date(Date.UTC(2024, 0, 1) + (offset + i) * 300_000).toISOString();
    const v = 50 + 20 * Math.sin((2 * Math.PI * (offset + i)) / 288) + 4 * (s / 2147483647 - 0.5);
    lines.push(`${t},${(v + (spikes.includes(i) ? 45 : 0)).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

function rowsOf(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

describe('a model file: train writes it, score --model and replay --model use it', () => {
  const dir = scratchDir('model');
  const trainCsv = join(dir, 'train.csv');
  const input = join(dir, 'input.csv');
  const model = join(dir, 'model.isoscope');
  writeFileSync(trainCsv, seriesCsv(1500, 5));
  // The day after training, with three spikes, one inside replay's warm-up.
  writeFileSync(input, seriesCsv(900, 9, [100, 600, 750], 1500));

  beforeAll(() => {
    const r = isoscope(['train', '--input', trainCsv, '--out', model]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/threshold \d\.\d{4}, alert budget\)/);
  });

  it('score --model scores with the model features and its threshold; the look-back rows have no score', () => {
    const bundle = JSON.parse(readFileSync(model, 'utf8')) as { threshold: number; featureNames: string[] };
    expect(bundle.featureNames).toHaveLength(8); // one column: a shingle of 8
    const out = join(dir, 'scored.csv');
    const r = isoscope(['score', '--model', model, '--input', input, '--output', out]);
    expect(r.stderr).not.toContain('warning'); // (a slow machine may print progress there)
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`threshold ${bundle.threshold.toFixed(4)}, from ${model}`);
    const rows = rowsOf(out);
    expect(rows).toHaveLength(900);
    for (const row of rows.slice(0, 7)) expect(row.slice(1)).toEqual(['0.000000', '0', '']);
    for (const row of rows.slice(7)) expect(row[2]).toBe(Number(row[1]) > bundle.threshold ? '1' : '0');
    // Each spike is flagged while it is in the shingle, and explained by a value of the series.
    for (const spike of [100, 600, 750]) {
      expect(rows[spike]![2]).toBe('1');
      expect(rows[spike]![3]).toMatch(/^value(\.lag\d)?$/);
    }
    // Quiet apart from the spikes: the alert budget does not flag a daily cycle it has seen.
    const flagged = rows.filter((row) => row[2] === '1').length;
    expect(flagged).toBeLessThan(0.05 * rows.length);
  });

  it('score --model with --threshold overrides the model threshold; fitting flags are refused', () => {
    const out = join(dir, 'fixed.csv');
    expect(
      isoscope(['score', '--model', model, '--input', input, '--output', out, '--threshold', '0.99']).code,
    ).toBe(0);
    expect(rowsOf(out).filter((row) => row[2] === '1')).toHaveLength(0);
    const r = isoscope(['score', '--model', model, '--input', input, '--output', out, '--trees', '50']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'isoscope score: --trees fits a forest: it goes with --train, the model file has its own\n',
    );
  });

  it('replay --model scores the warm-up with the model, then the stream takes over exactly as a cold replay', () => {
    const cold = join(dir, 'cold.csv');
    const warm = join(dir, 'warm.csv');
    expect(isoscope(['replay', '--input', input, '--output', cold]).code).toBe(0);
    const r = isoscope(['replay', '--input', input, '--output', warm, '--model', model]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`\\d+ warm-up rows scored by ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    const coldRows = rowsOf(cold);
    const warmRows = rowsOf(warm);
    const handOver = coldRows.findIndex((row) => row[1] !== '0');
    expect(handOver).toBeGreaterThan(500);
    // Cold: nothing scored before the stream's first model, so the spike at row 100 is missed.
    expect(coldRows[100]!.slice(1)).toEqual(['0', '0', '']);
    // With the model: the warm-up is scored (after the model's own look-back) and the spike found.
    expect(warmRows.slice(7, handOver).every((row) => Number(row[1]) > 0)).toBe(true);
    expect(warmRows[100]![2]).toBe('1');
    // From the hand-over on, the stream is the same stream.
    expect(warmRows.slice(handOver)).toEqual(coldRows.slice(handOver));
  });

  it('train --entity-column writes one model shared by the hosts; score --model looks back within each host', () => {
    // Two hosts, interleaved: the same shape at two levels.
    const hostRows = (text: string, host: string): string[] =>
      text
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => {
          const [t, v] = l.split(',');
          return `${t},${host},${(Number(v) + (host === 'db' ? 100 : 0)).toFixed(3)}`;
        });
    const interleave = (a: string[], b: string[]): string =>
      `timestamp,host,value\n${a.flatMap((row, i) => [row, b[i]!]).join('\n')}\n`;
    const fleetTrain = join(dir, 'fleet-train.csv');
    const train = seriesCsv(800, 5);
    writeFileSync(fleetTrain, interleave(hostRows(train, 'web'), hostRows(train, 'db')));
    const fleetModel = join(dir, 'fleet.isoscope');
    const t = isoscope(['train', '--input', fleetTrain, '--out', fleetModel, '--entity-column', 'host']);
    expect(t.code).toBe(0);
    const day = seriesCsv(300, 9, [150], 800);
    const fleetInput = join(dir, 'fleet-input.csv');
    writeFileSync(fleetInput, interleave(hostRows(day, 'web'), hostRows(seriesCsv(300, 9, [], 800), 'db')));
    const out = join(dir, 'fleet-scored.csv');
    const r = isoscope([
      'score',
      '--model',
      fleetModel,
      '--input',
      fleetInput,
      '--output',
      out,
      '--entity-column',
      'host',
    ]);
    expect(r.code).toBe(0);
    const rows = rowsOf(out);
    expect(rows.map((row) => row[1])).toEqual(Array.from({ length: 600 }, (_, i) => (i % 2 ? 'db' : 'web')));
    // Each host's first 7 rows fill its own shingle: no host borrows the other's values.
    for (const row of rows.slice(0, 14)) expect(row[2]).toBe('0.000000');
    expect(Number(rows[14]![2])).toBeGreaterThan(0);
    // The spike in web's rows is flagged; db, with no spike, stays quiet around it.
    expect(rows[300]![3]).toBe('1');
    expect(rows.filter((row, i) => row[1] === 'db' && i >= 290 && i < 320 && row[3] === '1')).toEqual([]);
    // Without --entity-column the host column is text, with the hint.
    const refused = isoscope(['score', '--model', fleetModel, '--input', fleetInput, '--output', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "column 'host' is text: use --entity-column host or --ignore-column host",
    );
  });

  it('refuses a file that is not a model, and a model whose columns the input lacks', () => {
    const notModel = join(dir, 'not-a-model.isoscope');
    writeFileSync(notModel, '{"format":"something-else"}');
    const out = join(dir, 'never.csv');
    for (const command of ['score', 'replay']) {
      const r = isoscope([command, '--model', notModel, '--input', input, '--output', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `isoscope ${command}: ${notModel}: not a model file (no format 'isoscope-model'): write one with isoscope train\n`,
      );
    }
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'timestamp,cpu\n2024-01-01T00:00:00Z,1\n');
    const r = isoscope(['score', '--model', model, '--input', other, '--output', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing feature column 'value' that the model was trained on");
  });
});

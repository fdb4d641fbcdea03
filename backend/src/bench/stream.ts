/**
 * `npm run bench:stream`: how fast the streaming detector takes rows with replay's defaults, next to
 * the batch kernel scoring the same rows in the same run (CPU time of this one thread; the
 * machines are shared, so the ratio is the figure to read):
 *
 * - a single series of 100k rows (a day's cycle, noise and a few incidents, generated with a seed);
 * - an SMD machine, all 38 metrics, train.csv then test.csv (../shared/data when present, else the
 *   gzipped copy in test/fixtures).
 *
 * For each: `pushMany` (what replay uses) over every row; `push` one row at a time over the first
 * PUSH_ROWS rows, with the check that both gave the same results; and the batch kernel, one forest
 * of 100 trees fitted on the first 8192 rows scoring them all (scoreBatch), 'clamp' (scikit-learn's
 * walk) and 'isolate' (the stream's). The stream scores every row with two forest groups of 100
 * trees (levels and changes), and every 512 rows grows a sixth of each group's trees and walks a
 * 1024-row sample of its window with them for the threshold: about 2.1 forests a row where the
 * kernel walks one, plus growing trees, calibration and explanations (docs/engine.md).
 *
 * `npm run bench:stream -- --rows 20000` replays fewer rows of the single series; `--metric-forests …`
 * `--budget-split even|union` and `--whole-forest off|trees,samples` give the detector those options
 * (see options.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import {
  defaultStreamFeatures,
  IsolationForest,
  StreamingDetector,
  type StreamOptions,
  type StreamResult,
} from '../engine/index.js';
import { Random } from '../engine/forest/random.js';
import { parseMetricsCsv } from '../io/csv/index.js';
import { DETECTOR_FLAGS, detectorFlags } from './options.js';

const SHARED = fileURLToPath(new URL('../../../../shared/data/smd/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/data/smd/', import.meta.url));
const MACHINE = 'machine-1-6';
/** Rows `push` takes one at a time for the comparison: row by row is the slow way. */
const PUSH_ROWS = 8192;
/** Targets of issue 21, rows a second on one core with the default settings. */
const TARGET = { single: 50_000, machine: 20_000 };

const cpuNow = (): number => process.cpuUsage().user / 1e6;

interface Series {
  name: string;
  fields: string[];
  values: Float64Array;
  timesMs: Float64Array;
}

function singleSeries(rows: number): Series {
  const rng = new Random(21);
  const values = new Float64Array(rows);
  const timesMs = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const incident = r % 9973 < 20 ? 15 : 0;
    values[r] = 50 + 10 * Math.sin((2 * Math.PI * r) / 1440) + 2 * rng.normal() + incident;
    timesMs[r] = Date.UTC(2026, 0, 1) + r * 60_000;
  }
  return { name: `single series, ${rows} rows`, fields: ['value'], values, timesMs };
}

async function machine(): Promise<Series> {
  const shared = existsSync(join(SHARED, MACHINE, 'train.csv'));
  const read = async (part: string): Promise<ReturnType<typeof parseMetricsCsv>> => {
    const file = shared ? join(SHARED, MACHINE, `${part}.csv`) : join(FIXTURES, MACHINE, `${part}.csv.gz`);
    const bytes = await readFile(file);
    const text = shared ? bytes.toString('utf8') : gunzipSync(bytes).toString('utf8');
    return parseMetricsCsv(text, file, { labelColumn: 'label', labelOptional: true });
  };
  const [train, test] = [await read('train'), await read('test')];
  const fields = train.featureNames;
  const rows = train.matrix.rows + test.matrix.rows;
  const values = new Float64Array(rows * fields.length);
  values.set(train.matrix.data);
  values.set(test.matrix.data, train.matrix.data.length);
  const timesMs = new Float64Array(rows);
  timesMs.set(train.timeMs!);
  timesMs.set(test.timeMs!, train.matrix.rows);
  return { name: `SMD ${MACHINE}, ${fields.length} metrics, ${rows} rows`, fields, values, timesMs };
}

interface Figures {
  manyRate: number;
  pushRate: number;
  /** pushMany over the rows push took. */
  prefixRate: number;
  same: boolean;
  kernelRate: { clamp: number; isolate: number };
}

/** The detector's options from `--metric-forests`, `--budget-split`, `--whole-forest` (see options.ts). */
let EXTRA: Partial<StreamOptions> = {};

function measure(series: Series): Figures {
  const { fields, values, timesMs } = series;
  const cols = fields.length;
  const rows = timesMs.length;
  const options = { features: defaultStreamFeatures(fields), ...EXTRA };

  let t0 = cpuNow();
  const many = new StreamingDetector(options).pushMany(values, timesMs);
  const manyRate = rows / (cpuNow() - t0);

  const pushRows = Math.min(rows, PUSH_ROWS);
  const one = new StreamingDetector(options);
  const pushed: StreamResult[] = [];
  t0 = cpuNow();
  for (let r = 0; r < pushRows; r++)
    pushed.push(one.push(values.subarray(r * cols, (r + 1) * cols), timesMs[r]!));
  const pushRate = pushRows / (cpuNow() - t0);
  const same = JSON.stringify(pushed) === JSON.stringify(many.slice(0, pushRows));
  // pushMany on the same first rows: the windows are still filling there, so retraining costs less.
  t0 = cpuNow();
  new StreamingDetector(options).pushMany(values.subarray(0, pushRows * cols), timesMs.subarray(0, pushRows));
  const prefixRate = pushRows / (cpuNow() - t0);

  const x = { rows, cols, data: values };
  const train = { rows: Math.min(rows, 8192), cols, data: values.subarray(0, Math.min(rows, 8192) * cols) };
  const kernel = (outOfRange: 'clamp' | 'isolate'): number => {
    const forest = IsolationForest.fit(train, { seed: 0, outOfRange });
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = cpuNow();
      forest.scoreBatch(x);
      best = Math.min(best, cpuNow() - t);
    }
    return rows / best;
  };
  return {
    manyRate,
    pushRate,
    prefixRate,
    same,
    kernelRate: { clamp: kernel('clamp'), isolate: kernel('isolate') },
  };
}

const rate = (v: number): string =>
  v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(1)} k/s`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      ...DETECTOR_FLAGS,
    },
  });
  EXTRA = detectorFlags(values);
  const rows = values.rows !== undefined ? Number(values.rows) : 100_000;
  if (!Number.isInteger(rows) || rows < 1000) {
    process.stderr.write(`bench:stream: --rows must be an integer ≥ 1000, got ${values.rows}\n`);
    process.exit(2);
  }
  const lines = [
    '## The stream (replay defaults, one thread, CPU time; the batch kernel is one 100-tree forest on the same rows)',
    '',
    '| series | stream, pushMany (replay) | stream, push row by row | same results | batch kernel clamp | batch kernel isolate | stream ÷ kernel (isolate) | target |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const checks: string[] = [];
  for (const [series, target] of [
    [singleSeries(rows), TARGET.single],
    [await machine(), TARGET.machine],
  ] as const) {
    process.stderr.write(`bench:stream: ${series.name}\n`);
    const f = measure(series);
    lines.push(
      `| ${series.name} | ${rate(f.manyRate)} | ${rate(f.pushRate)} (first ${Math.min(PUSH_ROWS, series.timesMs.length)} rows; pushMany ${rate(f.prefixRate)} there) | ${f.same ? 'yes' : 'NO'} | ${rate(f.kernelRate.clamp)} | ${rate(f.kernelRate.isolate)} | ${(f.manyRate / f.kernelRate.isolate).toFixed(3)}× | ${rate(target)} |`,
    );
    checks.push(
      `${f.manyRate >= target ? '✓' : '✗'} ${series.name}: ${rate(f.manyRate)} against ${rate(target)}`,
    );
    if (!f.same) checks.push(`✗ ${series.name}: pushMany and push disagree`);
  }
  process.stdout.write([...lines, '', '## Targets (issue 21)', '', ...checks, ''].join('\n'));
}

await main();

/**
 * `npm run bench`: the engine against scikit-learn (when Debian's python3-sklearn is installed) and
 * the npm package ml-isolation-forest, on the same generated data in the same run. Every figure is
 * printed next to the reference measured now, as a ratio: these machines are noisy, and a ratio
 * measured side by side means something where an absolute time does not.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsolationForest as MlIsolationForest } from 'ml-isolation-forest';
import {
  explain,
  explainCacheBytes,
  explainRows,
  IsolationForest,
  rocAuc,
  type Matrix,
  type OutOfRange,
} from '../engine/index.js';
import { useKernel } from '../engine/explain/kernel.js';
import { scoreBatchParallel } from '../parallel/score-pool.js';
import { benchCsv, generateBenchData, type LabelledData } from './data.js';
import { serviceBench } from './service.js';
import { findSklearnPython, sklearnEndToEnd, sklearnFitScore, type SklearnFitScore } from './sklearn.js';

const SIZES = [10_000, 100_000, 1_000_000];
const DIMS = [4, 16];
/** ml-isolation-forest keeps an object per node and recurses per point: above this it takes minutes. */
const ML_MAX_ROWS = 100_000;
const E2E_ROWS = 200_000;
const E2E_COLS = 16;
/** Flagged rows explained per mode in the explanation benchmark. */
const EXPLAIN_ROWS = 4096;

/** `npm run bench -w backend -- --only explain,e2e` runs some sections (engine, workers, explain, e2e, service). */
const SECTIONS = ['engine', 'workers', 'explain', 'e2e', 'service'] as const;
const onlyAt = process.argv.indexOf('--only');
const only = new Set(onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : SECTIONS);
for (const name of only)
  if (!(SECTIONS as readonly string[]).includes(name)) {
    process.stderr.write(`bench: unknown section ${name} (sections: ${SECTIONS.join(', ')})\n`);
    process.exit(2);
  }

interface EngineFigures {
  fitS: number;
  scoreS: number;
  singleUs: number;
  bytes: number;
  heapBytes: number;
  rocAuc: number;
  stepsPerPoint: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const now = (): number => performance.now() / 1000;

function bestOf<T>(repeats: number, fn: () => T): { seconds: number; result: T } {
  let seconds = Infinity;
  let result!: T;
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    result = fn();
    seconds = Math.min(seconds, now() - t0);
  }
  return { seconds, result };
}

function measureEngine(data: LabelledData, repeats: number, outOfRange: OutOfRange = 'clamp'): EngineFigures {
  const x = data.matrix;
  const fit = bestOf(repeats, () => IsolationForest.fit(x, { seed: 0, outOfRange }));
  const forest = fit.result;
  // Memory a fitted forest keeps: several forests held at once, measured after full collections.
  const held: IsolationForest[] = [];
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < 5; i++) held.push(IsolationForest.fit(x, { seed: i, outOfRange }));
  gc();
  const after = process.memoryUsage();
  const out = new Float64Array(x.rows);
  const score = bestOf(repeats, () => forest.scoreBatch(x, out));
  // Single-point latency: the cost of scoring one row as it arrives (the streaming path).
  const calls = 20_000;
  const single = bestOf(3, () => {
    let sink = 0;
    for (let i = 0; i < calls; i++)
      sink += forest.scoreOne(x.data.subarray((i % x.rows) * x.cols, ((i % x.rows) + 1) * x.cols));
    return sink;
  });
  let steps = 0;
  for (let t = 0; t < forest.params.trees; t++) steps += forest.nodes.depth[t]!;
  return {
    fitS: fit.seconds,
    scoreS: score.seconds,
    singleUs: (single.seconds / calls) * 1e6,
    bytes: forest.serialize().byteLength,
    heapBytes:
      Math.max(0, after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / held.length,
    rocAuc: rocAuc(out, data.labels),
    stepsPerPoint: steps,
  };
}

function measureMl(data: LabelledData): {
  fitS: number;
  scoreS: number;
  singleUs: number;
  bytes: number;
  rocAuc: number;
} {
  const { rows } = data.matrix;
  const rowsOf = (m: Matrix, count: number): number[][] =>
    Array.from({ length: count }, (_, r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
  const all = rowsOf(data.matrix, rows);
  // It grows every tree on the whole training set (no subsampling); give it what each of our
  // trees sees, 256 rows, so that fit times compare like with like.
  const sample = all.slice(0, Math.min(256, rows));
  const t0 = now();
  const model = new MlIsolationForest({ nEstimators: 100 });
  model.train(sample);
  const fitS = now() - t0;
  const t1 = now();
  const scores = model.predict(all);
  const scoreS = now() - t1;
  const calls = 2000;
  const t2 = now();
  for (let i = 0; i < calls; i++) model.predict([all[i % rows]!]);
  const singleUs = ((now() - t2) / calls) * 1e6;
  return { fitS, scoreS, singleUs, bytes: JSON.stringify(model).length, rocAuc: rocAuc(scores, data.labels) };
}

interface ExplainFigures {
  rows: number;
  kernelUs: number;
  singleUs: number;
  /** explainRows with the forest's tables already held (best of five), and the first batch, which builds them. */
  batchUs: number;
  /** The same with the JavaScript loops instead of the WebAssembly kernel (best of three): the reference. */
  loopsUs: number;
  firstBatchUs: number;
  prepareMs: number;
  bytes: number;
  tableBytes: number;
}

/** This process's CPU seconds: steadier than wall time on a shared machine, and all one thread here. */
const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

function bestCpuOf<T>(repeats: number, fn: () => T): { seconds: number; result: T } {
  let seconds = Infinity;
  let result!: T;
  for (let i = 0; i < repeats; i++) {
    const t0 = cpuNow();
    result = fn();
    seconds = Math.min(seconds, cpuNow() - t0);
  }
  return { seconds, result };
}

/**
 * Explanation cost on the rows `isoscope score` explains (the flagged rows of the end-to-end data),
 * per row for the forest's 100 trees, next to the batch scoring kernel on the same rows. CPU time:
 * every figure here runs on this one thread.
 */
function measureExplain(outOfRange: OutOfRange): ExplainFigures {
  const { matrix } = generateBenchData(E2E_ROWS, E2E_COLS, 0.01, 2);
  const forest = IsolationForest.fit(matrix, { seed: 0, outOfRange });
  const scores = forest.scoreBatch(matrix);
  const cols = matrix.cols;
  const picked: number[] = [];
  for (let r = 0; r < matrix.rows && picked.length < EXPLAIN_ROWS; r++)
    if (forest.isAnomaly(scores[r]!)) picked.push(r);
  const x: Matrix = { rows: picked.length, cols, data: new Float64Array(picked.length * cols) };
  picked.forEach((r, i) => x.data.set(matrix.data.subarray(r * cols, (r + 1) * cols), i * cols));
  const row = (i: number): Float64Array => x.data.subarray(i * cols, (i + 1) * cols);
  gc();
  const before = explainCacheBytes();
  const t0 = cpuNow();
  explain(forest, row(0)); // builds the forest's paths
  const prepareMs = (cpuNow() - t0) * 1000;
  const bytes = explainCacheBytes() - before;
  const kernel = bestCpuOf(5, () => forest.scoreBatch(x)).seconds;
  const singles = Math.min(1000, x.rows);
  const single = bestCpuOf(3, () => {
    for (let i = 0; i < singles; i++) explain(forest, row(i));
  }).seconds;
  const t1 = cpuNow();
  explainRows(forest, x); // builds the trees' tables, held for the next batches
  const firstBatch = cpuNow() - t1;
  const tableBytes = explainCacheBytes() - before - bytes;
  // Five: the second and third batches of a fresh process still pay for V8's compiling.
  const batch = bestCpuOf(5, () => explainRows(forest, x)).seconds;
  const previous = useKernel(false);
  const loops = bestCpuOf(3, () => explainRows(forest, x)).seconds;
  useKernel(previous);
  const perTrees = 100 / forest.params.trees;
  return {
    rows: x.rows,
    kernelUs: (kernel / x.rows) * 1e6 * perTrees,
    singleUs: (single / singles) * 1e6 * perTrees,
    batchUs: (batch / x.rows) * 1e6 * perTrees,
    loopsUs: (loops / x.rows) * 1e6 * perTrees,
    firstBatchUs: (firstBatch / x.rows) * 1e6 * perTrees,
    prepareMs,
    bytes,
    tableBytes,
  };
}

const fmt = {
  s: (v: number): string => (v < 0.01 ? `${(v * 1000).toFixed(2)} ms` : `${v.toFixed(3)} s`),
  rate: (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(0)} k/s`),
  us: (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(2)} µs`),
  bytes: (v: number): string =>
    v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(2)} MiB` : `${(v / 1024).toFixed(1)} KiB`,
  x: (v: number): string => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}×`,
};

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const log = (text: string): void => void process.stderr.write(`bench: ${text}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'isoscope-bench-'));
  const python = findSklearnPython();
  if (!python) {
    log(
      'no Python with scikit-learn and pandas: comparing with ml-isolation-forest only (Debian: apt-get install python3-sklearn python3-pandas, or bash scripts/install-deps.sh --bench)',
    );
  }
  const results: string[][] = [];
  const ratios: string[][] = [];
  const checks: Array<[string, boolean]> = [];
  let scoringRef: { x: Matrix; forest: IsolationForest } | undefined;
  for (const rows of only.has('engine') ? SIZES : []) {
    for (const cols of DIMS) {
      log(`n=${rows} d=${cols}: generating`);
      const data = generateBenchData(rows, cols);
      const repeats = rows >= 1_000_000 ? 1 : rows >= 100_000 ? 3 : 5;
      log(`n=${rows} d=${cols}: Isoscope engine`);
      const ours = measureEngine(data, repeats);
      const nsPerVisit = (ours.scoreS / rows / ours.stepsPerPoint) * 1e9;
      results.push([
        `${rows}×${cols}`,
        'isoscope',
        fmt.s(ours.fitS),
        fmt.rate(rows / ours.scoreS),
        fmt.us(ours.singleUs),
        fmt.bytes(ours.bytes),
        fmt.bytes(ours.heapBytes),
        ours.rocAuc.toFixed(4),
        `${ours.stepsPerPoint} @ ${nsPerVisit.toFixed(2)} ns`,
      ]);
      if (rows <= ML_MAX_ROWS) {
        // The scoring streams and trained models use: beyond a node's range, isolated there.
        log(`n=${rows} d=${cols}: Isoscope engine, outOfRange 'isolate'`);
        const isolating = measureEngine(data, repeats, 'isolate');
        results.push([
          `${rows}×${cols}`,
          "isoscope, outOfRange 'isolate'",
          fmt.s(isolating.fitS),
          fmt.rate(rows / isolating.scoreS),
          fmt.us(isolating.singleUs),
          fmt.bytes(isolating.bytes),
          fmt.bytes(isolating.heapBytes),
          isolating.rocAuc.toFixed(4),
          '',
        ]);
        // Here the row is the 'isolate' mode and the reference is the default 'clamp' mode.
        ratios.push([
          `${rows}×${cols}`,
          "isoscope 'clamp' (row: 'isolate')",
          fmt.x(ours.fitS / isolating.fitS),
          fmt.x(ours.scoreS / isolating.scoreS),
          fmt.x(ours.singleUs / isolating.singleUs),
          fmt.x(ours.bytes / isolating.bytes),
          (isolating.rocAuc - ours.rocAuc).toFixed(4),
        ]);
        log(`n=${rows} d=${cols}: ml-isolation-forest`);
        const ml = measureMl(data);
        results.push([
          `${rows}×${cols}`,
          'ml-isolation-forest',
          fmt.s(ml.fitS),
          fmt.rate(rows / ml.scoreS),
          fmt.us(ml.singleUs),
          fmt.bytes(ml.bytes),
          '',
          ml.rocAuc.toFixed(4),
          '',
        ]);
        ratios.push([
          `${rows}×${cols}`,
          'ml-isolation-forest',
          fmt.x(ml.fitS / ours.fitS),
          fmt.x(ml.scoreS / ours.scoreS),
          fmt.x(ml.singleUs / ours.singleUs),
          fmt.x(ml.bytes / ours.bytes),
          (ours.rocAuc - ml.rocAuc).toFixed(4),
        ]);
      }
      if (python) {
        log(`n=${rows} d=${cols}: scikit-learn`);
        const sk: SklearnFitScore = await sklearnFitScore(python, dir, data, repeats);
        results.push([
          `${rows}×${cols}`,
          `scikit-learn ${sk.sklearn}`,
          fmt.s(sk.fit_s),
          fmt.rate(rows / sk.score_s),
          fmt.us(sk.single_us),
          fmt.bytes(sk.model_bytes),
          '',
          sk.roc_auc.toFixed(4),
          '',
        ]);
        const r = {
          fit: sk.fit_s / ours.fitS,
          score: sk.score_s / ours.scoreS,
          single: sk.single_us / ours.singleUs,
          bytes: sk.model_bytes / ours.bytes,
          auc: ours.rocAuc - sk.roc_auc,
        };
        ratios.push([
          `${rows}×${cols}`,
          'scikit-learn',
          fmt.x(r.fit),
          fmt.x(r.score),
          fmt.x(r.single),
          fmt.x(r.bytes),
          r.auc.toFixed(4),
        ]);
        checks.push([`${rows}×${cols} fit ≥ 5× faster than scikit-learn (${fmt.x(r.fit)})`, r.fit >= 5]);
        checks.push([
          `${rows}×${cols} scoring ≥ 5× scikit-learn's throughput (${fmt.x(r.score)})`,
          r.score >= 5,
        ]);
        checks.push([
          `${rows}×${cols} single point ≤ 1/1000 of scikit-learn's (${fmt.x(r.single)})`,
          r.single >= 1000,
        ]);
        checks.push([
          `${rows}×${cols} model ≤ 1/4 of scikit-learn's pickle (${fmt.x(r.bytes)})`,
          r.bytes >= 4,
        ]);
        checks.push([
          `${rows}×${cols} ROC-AUC within 0.005 of scikit-learn (${r.auc >= 0 ? '+' : ''}${r.auc.toFixed(4)})`,
          r.auc >= -0.005,
        ]);
      }
      if (rows === 1_000_000 && cols === 16 && only.has('workers'))
        scoringRef = { x: data.matrix, forest: IsolationForest.fit(data.matrix, { seed: 0 }) };
    }
  }

  const out: string[] = [];
  if (only.has('engine')) {
    out.push(
      '## Fit, batch scoring, single point, size, memory, accuracy (100 trees, max samples 256, one thread)',
      '',
    );
    out.push(
      table(
        [
          'data',
          'implementation',
          'fit',
          'batch scoring',
          'one point',
          'model',
          'heap',
          'ROC-AUC',
          'steps/point @ time/step',
        ],
        results,
      ),
      '',
    );
    out.push('## Isoscope as a multiple of each reference (higher is better; AUC as a difference)', '');
    out.push(table(['data', 'reference', 'fit', 'scoring', 'one point', 'smaller', 'ROC-AUC Δ'], ratios), '');
  }

  if (scoringRef) {
    log('worker threads on 1M×16');
    const { x, forest } = scoringRef;
    const one = bestOf(2, () => forest.scoreBatch(x)).seconds;
    const threads = availableParallelism();
    let parallel = Infinity;
    for (let i = 0; i < 2; i++) {
      const t0 = now();
      await scoreBatchParallel(forest, x, { workers: threads });
      parallel = Math.min(parallel, now() - t0);
    }
    out.push(
      `## Worker threads: 1M×16 scored on ${threads} threads in ${fmt.s(parallel)} against ${fmt.s(one)} on one: ${fmt.x(one / parallel)} (including the copy to shared memory and each worker rebuilding the forest)`,
      '',
    );
  }

  if (only.has('explain')) {
    const rowsOut: string[][] = [];
    for (const mode of ['clamp', 'isolate'] as const) {
      log(`explanations, outOfRange '${mode}'`);
      const e = measureExplain(mode);
      rowsOut.push([
        mode,
        String(e.rows),
        fmt.us(e.kernelUs),
        `${fmt.us(e.singleUs)} (${fmt.x(e.singleUs / e.kernelUs)})`,
        `${fmt.us(e.firstBatchUs)} (${fmt.x(e.firstBatchUs / e.kernelUs)})`,
        `${fmt.us(e.batchUs)} (${fmt.x(e.batchUs / e.kernelUs)})`,
        `${fmt.us(e.loopsUs)} (kernel ${(e.batchUs / e.loopsUs).toFixed(2)}× this)`,
        `${e.prepareMs.toFixed(1)} ms, ${fmt.bytes(e.bytes)}`,
        fmt.bytes(e.tableBytes),
      ]);
      checks.push([
        `'${mode}': explaining a row ≤ 20× the scoring kernel on the same rows (one row ${fmt.x(e.singleUs / e.kernelUs)}, batch ${fmt.x(e.batchUs / e.kernelUs)}, first batch ${fmt.x(e.firstBatchUs / e.kernelUs)})`,
        e.batchUs <= 20 * e.kernelUs,
      ]);
      checks.push([
        `'${mode}': explainRows ≤ 20 µs a row per 100 trees (issue 21): ${fmt.us(e.batchUs)} with the tables held, ${fmt.us(e.firstBatchUs)} for the batch that builds them`,
        e.batchUs <= 20,
      ]);
    }
    out.push(
      `## Explanations (exact TreeSHAP; the flagged rows of the ${E2E_ROWS}×${E2E_COLS} data, per row for 100 trees, as multiples of the batch scoring kernel on the same rows; CPU time of one thread)`,
      '',
      table(
        [
          'outOfRange',
          'rows',
          'batch scoring',
          'explain(forest, row)',
          'explainRows, first batch (builds the tables)',
          'explainRows, tables held',
          'the same in JavaScript loops (no WebAssembly)',
          'first explanation: paths built, held',
          'tables held',
        ],
        rowsOut,
      ),
      '',
    );
  }

  if (only.has('e2e')) {
    log(`end to end: isoscope score on a ${E2E_ROWS}×${E2E_COLS} CSV`);
    const csvFile = join(dir, 'e2e.csv');
    await writeFile(csvFile, benchCsv(generateBenchData(E2E_ROWS, E2E_COLS, 0.01, 2)));
    const cli = fileURLToPath(new URL('../../bin/isoscope.js', import.meta.url));
    const timeCli = (extra: string[]): { seconds: number; summary: string } => {
      const t0 = now();
      const run = spawnSync(
        process.execPath,
        // scikit-learn's job: its threshold (0.5) and its scoring beyond the training range (clamp),
        // not score's defaults (the alert budget, isolate), so the comparison stays like for like.
        [
          cli,
          'score',
          '--train',
          csvFile,
          '--input',
          csvFile,
          '--output',
          join(dir, 'ours.csv'),
          '--contamination',
          'auto',
          '--out-of-range',
          'clamp',
          ...extra,
        ],
        { encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`isoscope score failed: ${run.stderr}`);
      return {
        seconds: now() - t0,
        summary: run.stdout
          .trim()
          .split('\n')[0]!
          .replace(/^scored .* rows .*?: /, '')
          .replace(/ → .*/, ''),
      };
    };
    const scoresOnly = timeCli(['--no-explain']);
    const explained = timeCli([]);
    let e2eLine = `## End to end (${E2E_ROWS}×${E2E_COLS} CSV; read, fit, score, write; wall time of the whole command)\n\n`;
    e2eLine += `isoscope score --no-explain: ${fmt.s(scoresOnly.seconds)}; with the top feature of each flagged row (${explained.summary}, TreeSHAP): ${fmt.s(explained.seconds)}`;
    if (python) {
      const t0 = now();
      sklearnEndToEnd(python, csvFile, csvFile, join(dir, 'sklearn.csv'));
      const skSeconds = now() - t0;
      const ratio = skSeconds / scoresOnly.seconds;
      const ratioExplained = explained.seconds / skSeconds;
      e2eLine += `; pandas + scikit-learn (read, fit, score, write): ${fmt.s(skSeconds)}, ${fmt.x(ratio)} the --no-explain time; the default (explained) isoscope score takes ${ratioExplained.toFixed(2)}× scikit-learn's time`;
      checks.push([`end to end at most half of pandas + scikit-learn's time (${fmt.x(ratio)})`, ratio >= 2]);
      checks.push([
        `default isoscope score, explanations included, ≤ 0.5× pandas + scikit-learn (${ratioExplained.toFixed(2)}×)`,
        ratioExplained <= 0.5,
      ]);
    }
    out.push(e2eLine, '');
  }

  if (only.has('service')) {
    try {
      out.push(...(await serviceBench(log)));
    } catch (err) {
      out.push(`## Service: not measured (${(err as Error).message})`, '');
    }
  }

  if (checks.length > 0) {
    out.push(
      '## Targets (issues 3 and 21)',
      '',
      ...checks.map(([text, ok]) => `${ok ? '✓' : '✗'} ${text}`),
      '',
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  await rm(dir, { recursive: true, force: true });
}

await main();

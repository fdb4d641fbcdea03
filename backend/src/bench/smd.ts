/**
 * `npm run bench:smd`: detection quality on the labelled server machines of ../shared/data (SMD:
 * 4 machines × 38 metrics, ASD: 6 services × 19 metrics), next to scikit-learn's reference:
 * (a) the batch forest on raw metrics (fit train.csv, score test.csv), (c) the streaming detector
 * with replay's defaults (train.csv then test.csv, one row at a time). The tuned pipeline (b) is not
 * built yet. Explanations: share of incidents whose labelled metrics include one of the top-3
 * contributions at the incident's highest-scoring row. Replay throughput in rows per second.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  averagePrecision,
  bestF1,
  eventRecall,
  explain,
  IsolationForest,
  rocAuc,
  StreamingDetector,
  topFeatures,
} from '../engine/index.js';
import { alignFeatures, readMetricsCsv, type MetricsTable } from '../io/csv/index.js';

const SHARED = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const MACHINES = [
  'smd/machine-1-6',
  'smd/machine-2-1',
  'smd/machine-3-3',
  'smd/machine-3-4',
  'asd/omi-1',
  'asd/omi-2',
  'asd/omi-3',
  'asd/omi-4',
  'asd/omi-5',
  'asd/omi-6',
];

interface Reference {
  sets: Array<{ name: string; roc_auc_mean: number; pr_auc_mean: number; best_f1_mean: number }>;
}

interface Quality {
  roc: number;
  pr: number;
  f1: number;
  events: string;
}

function quality(scores: Float64Array, labels: Uint8Array): Quality {
  const best = bestF1(scores, labels);
  const flags = Array.from(scores, (s) => (s >= best.threshold ? 1 : 0));
  const e = eventRecall(flags, labels);
  return {
    roc: rocAuc(scores, labels),
    pr: averagePrecision(scores, labels),
    f1: best.f1,
    events: `${e.found}/${e.events.length}`,
  };
}

/** Incidents and the metrics that caused them; spans as the README fixes them (SMD end-exclusive, ASD inclusive). */
async function interpretation(
  machine: string,
): Promise<Array<{ start: number; end: number; metrics: string[] }>> {
  const text = await readFile(join(SHARED, machine, 'interpretation_label.txt'), 'utf8');
  const inclusive = machine.startsWith('asd/');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [span, dims] = line.split(':') as [string, string];
      const [start, end] = span.split('-').map(Number) as [number, number];
      return {
        start,
        end: inclusive ? end : end - 1,
        metrics: dims.split(',').map((d) => `m${Number(d) - 1}`),
      };
    });
}

function replay(train: MetricsTable, test: MetricsTable): { scores: Float64Array; rowsPerSecond: number } {
  const fields = train.featureNames;
  const detector = new StreamingDetector({ features: { fields, delta: fields.length > 1 } });
  const x = alignFeatures(test, fields);
  const t0 = performance.now();
  for (let r = 0; r < train.matrix.rows; r++) {
    detector.push(
      train.matrix.data.subarray(r * train.matrix.cols, (r + 1) * train.matrix.cols),
      train.timeMs![r]!,
    );
  }
  const scores = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++)
    scores[r] = detector.push(x.data.subarray(r * x.cols, (r + 1) * x.cols), test.timeMs![r]!).score;
  return { scores, rowsPerSecond: (train.matrix.rows + x.rows) / ((performance.now() - t0) / 1000) };
}

async function main(): Promise<void> {
  const reference = JSON.parse(await readFile(join(SHARED, 'reference.json'), 'utf8')) as Reference;
  const rows: string[] = [];
  let wins = 0;
  for (const machine of MACHINES) {
    process.stderr.write(`bench:smd: ${machine}\n`);
    const train = await readMetricsCsv(join(SHARED, machine, 'train.csv'));
    const test = await readMetricsCsv(join(SHARED, machine, 'test.csv'), { labelColumn: 'label' });
    const labels = test.labels!;
    const x = alignFeatures(test, train.featureNames);
    const forest = IsolationForest.fit(train.matrix, { seed: 0 });
    const batchScores = forest.scoreBatch(x);
    const batch = quality(batchScores, labels);
    const stream = replay(train, test);
    const streaming = quality(stream.scores, labels);
    const incidents = await interpretation(machine);
    let hits = 0;
    for (const incident of incidents) {
      let peak = incident.start;
      for (let r = incident.start; r <= incident.end && r < x.rows; r++)
        if (batchScores[r]! > batchScores[peak]!) peak = r;
      const top = topFeatures(
        explain(forest, x.data.subarray(peak * x.cols, (peak + 1) * x.cols)).contributions,
        train.featureNames,
        3,
      );
      if (top.some((t) => incident.metrics.includes(t.feature))) hits++;
    }
    const ref = reference.sets.find((s) => s.name === machine)!;
    if (streaming.pr > ref.pr_auc_mean) wins++;
    const f = (v: number): string => v.toFixed(3);
    rows.push(
      `| ${machine} | ${f(ref.roc_auc_mean)} / ${f(ref.pr_auc_mean)} / ${f(ref.best_f1_mean)} | ${f(batch.roc)} / ${f(batch.pr)} / ${f(batch.f1)} / ${batch.events} | ${f(streaming.roc)} / ${f(streaming.pr)} / ${f(streaming.f1)} / ${streaming.events} | ${streaming.pr > ref.pr_auc_mean ? '✓' : '✗'} | ${hits}/${incidents.length} | ${Math.round(stream.rowsPerSecond)} |`,
    );
  }
  process.stdout.write(
    [
      '## Detection quality on SMD and ASD (ROC-AUC / PR-AUC / best F1 / incidents found at the best-F1 threshold)',
      '',
      '| machine | scikit-learn (reference) | batch forest, raw | streaming detector (replay defaults) | stream PR-AUC > scikit-learn | top-3 explanation hits | replay rows/s |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `The streaming detector beats scikit-learn's batch PR-AUC on ${wins} of ${MACHINES.length} machines.`,
      '',
    ].join('\n'),
  );
}

await main();

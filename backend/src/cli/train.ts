import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  IsolationForest,
  trainPipeline,
  transformBatch,
  type Matrix,
  type ModelBundle,
} from '../engine/index.js';
import { CsvError, readMetricsCsv, writeCsvAtomic } from '../io/csv/index.js';
import { writeFileAtomic } from '../io/files.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import {
  alertBudgetThreshold,
  columnUsage,
  DEFAULT_ALERT_RULE,
  ENTITY_COLUMN_OPTIONS,
  columnFlags,
  entityIds,
  integerFlag,
  outOfRangeFlag,
  requiredFlag,
  thresholdFlag,
  warnTimes,
} from './options.js';
import { svgScoreHistogram } from './plot.js';
import { Progress } from './progress.js';

const usage = `Usage: isoscope train --input data.csv --out model.isoscope [options]

Trains a tuned model bundle: splits the rows in time order (70 % train, 15 % validation, 15 % test),
searches trees, samples per tree and contamination on the validation part (F1 with labels; without
labels the mass–volume criterion, which says how tightly the model wraps the data), trains the
final model on train + validation and measures it on the test part. The bundle (JSON) holds the
forest, the feature spec, the threshold, the grid, the metrics, the training reference for drift
tests, and a validation report of the training data. \`isoscope score --model\` and
\`isoscope replay --model\` use it.

The threshold is the service's default decision rule (the alert budget): the lowest score at
which an alert rule of ${DEFAULT_ALERT_RULE.minAnomalous - 1} anomalous points among ${DEFAULT_ALERT_RULE.window} would not fire on the rows
the model was fitted on. See docs/cli.md.

Options:
  --input FILE            metrics CSV (time column optional; every other numeric column is a metric)
  --out FILE              where to write the model bundle
  --label-column NAME     0/1 ground truth: enables F1 tuning, test metrics and robustness scenarios
${columnUsage([
  'a text column such as host: one model shared by every value, each',
  "value's look-back (shingle, delta) within its own rows",
])}
  --shingle N             the last N values of each column as one vector (default 8 for one column)
  --delta                 add each column's change since the last row
  --threshold-policy P    alert-budget (default, as the service) or contamination (the grid's
                          quantile of the training scores)
  --threshold S           a fixed threshold instead of a policy
  --seed N                random seed (default 0)
  --out-of-range MODE     isolate (default): a value beyond the training data scores higher the
                          further beyond it is; clamp: scikit-learn's scoring, like the most
                          extreme training row
  --json                  print the report as JSON
  --grid-csv FILE         also write the grid-search table as CSV
  --plot FILE             draw the test part's scores against the threshold (and the labels) as SVG
`;

/** The forest inside a bundle. */
export function bundleForest(bundle: ModelBundle): IsolationForest {
  return IsolationForest.deserialize(Uint8Array.from(atob(bundle.model), (c) => c.charCodeAt(0)));
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * Reads a model file that \`isoscope train\` wrote (or a bundle the service stores). Anything else
 * is a one-line error naming the file: a wrong or damaged file must not score silently.
 */
export async function readModelFile(file: string): Promise<{ bundle: ModelBundle; forest: IsolationForest }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`}`);
  }
  let bundle: ModelBundle;
  try {
    bundle = JSON.parse(text) as ModelBundle;
  } catch {
    throw new UsageError(`${file}: not a model file (not JSON): write one with isoscope train`);
  }
  if (typeof bundle !== 'object' || bundle === null || bundle.format !== 'isoscope-model')
    throw new UsageError(
      `${file}: not a model file (no format 'isoscope-model'): write one with isoscope train`,
    );
  if (bundle.version !== 1)
    throw new UsageError(
      `${file}: model format version ${String(bundle.version)} is not supported (this version reads 1)`,
    );
  try {
    return { bundle, forest: bundleForest(bundle) };
  } catch (err) {
    throw new UsageError(`${file}: the model inside is damaged (${(err as Error).message})`);
  }
}

/**
 * The bundle with its threshold set by a policy, as the service sets it: 'alert-budget' over the
 * scores of the rows the final model was fitted on (train + validation), each entity apart; or a
 * fixed score. The test part's flagged share is counted again at the new threshold, so the
 * report describes the model as it will score.
 */
function withPolicy(
  bundle: ModelBundle,
  raw: Matrix,
  timeMs: Float64Array | undefined,
  series: Int32Array | undefined,
  policy: 'alert-budget' | number,
): ModelBundle {
  const forest = bundleForest(bundle);
  const batch = transformBatch(bundle.features, raw, timeMs, series);
  const scores = forest.scoreBatch(batch.matrix);
  const testStart = bundle.split.validation[1];
  let fitted = 0;
  while (fitted < batch.sourceRow.length && batch.sourceRow[fitted]! < testStart) fitted++;
  const tuned = forest.withThreshold(
    policy === 'alert-budget'
      ? alertBudgetThreshold(
          scores.subarray(0, fitted),
          series ? Int32Array.from(batch.sourceRow.subarray(0, fitted), (r) => series[r]!) : undefined,
        )
      : policy,
  );
  const testScores = scores.subarray(fitted);
  let flagged = 0;
  for (const score of testScores) if (tuned.isAnomaly(score)) flagged++;
  return {
    ...bundle,
    threshold: tuned.threshold,
    model: toBase64(tuned.serialize()),
    test: { ...bundle.test, flaggedShare: flagged / Math.max(1, testScores.length) },
  };
}

function report(bundle: ModelBundle, input: string, out: string, thresholdBy: string): string {
  const f = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(4));
  const [, trainEnd] = bundle.split.train;
  const [, validationEnd] = bundle.split.validation;
  const [, end] = bundle.split.test;
  const lines = [
    `${input}: ${end} rows → train ${trainEnd}, validation ${validationEnd - trainEnd}, test ${end - validationEnd} (in time order)`,
    `features (${bundle.featureNames.length}): ${bundle.featureNames.slice(0, 8).join(', ')}${bundle.featureNames.length > 8 ? ', …' : ''}`,
    `grid search by ${bundle.criterion === 'f1' ? 'F1 on the validation part (labels)' : 'mass–volume area on the validation part (no labels; lower is better, contamination stays 0.01)'}:`,
    '    trees  samples  shingle  contamination  value',
  ];
  const sorted = [...bundle.grid].sort((a, b) =>
    bundle.criterion === 'f1' ? b.value - a.value : a.value - b.value,
  );
  for (const row of sorted.slice(0, 8)) {
    const mark = row === bundle.chosen || JSON.stringify(row) === JSON.stringify(bundle.chosen) ? '→' : ' ';
    lines.push(
      `  ${mark} ${String(row.trees).padStart(5)}  ${String(row.maxSamples).padStart(7)}  ${String(row.shingle).padStart(7)}  ${String(row.contamination).padStart(13)}  ${f(row.value)}`,
    );
  }
  if (sorted.length > 8) lines.push(`    … ${sorted.length - 8} more`);
  const t = bundle.test;
  lines.push(
    `test: ${t.rows} rows, ${(100 * t.flaggedShare).toFixed(2)}% flagged (threshold ${bundle.threshold.toFixed(4)}, ${thresholdBy})`,
  );
  if (t.rocAuc !== undefined) {
    lines.push(
      `      ROC-AUC ${f(t.rocAuc)}  PR-AUC ${f(t.prAuc)}  best F1 ${f(t.bestF1)}  precision ${f(t.precision)}  recall ${f(t.recall)}  F1 ${f(t.f1)}  incidents ${t.incidentsFound}`,
    );
  } else {
    lines.push(`      mass–volume area ${f(t.massVolume)} (no labels)`);
  }
  if (bundle.robustness) {
    lines.push('robustness on the test part (ROC-AUC / PR-AUC / F1):');
    for (const r of bundle.robustness)
      lines.push(
        `  ${r.scenario.padEnd(19)} ${String(r.strength).padStart(5)}  ${f(r.rocAuc)} / ${f(r.prAuc)} / ${f(r.f1)}`,
      );
  }
  const failed = bundle.validation.checks.filter((c) => c.status !== 'pass');
  lines.push(
    `training data: ${failed.length ? failed.map((c) => `${c.check} ${c.status}`).join(', ') : 'all six checks pass'}`,
  );
  lines.push(`model bundle → ${out}`);
  return `${lines.join('\n')}\n`;
}

export const command: CliCommand = {
  usage,
  async run({ argv, stdout, stderr }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        out: { type: 'string' },
        ...ENTITY_COLUMN_OPTIONS,
        shingle: { type: 'string' },
        'threshold-policy': { type: 'string' },
        threshold: { type: 'string' },
        delta: { type: 'boolean' },
        seed: { type: 'string' },
        'out-of-range': { type: 'string' },
        json: { type: 'boolean' },
        'grid-csv': { type: 'string' },
        plot: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const input = requiredFlag(values, 'input');
    const out = requiredFlag(values, 'out');
    const seed = integerFlag(values.seed, 'seed', 0, 0xffffffff);
    const shingleFlag = integerFlag(values.shingle, 'shingle', 1, 64);
    const outOfRange = outOfRangeFlag(values['out-of-range']);
    const fixed = thresholdFlag(values.threshold);
    const policyFlag = values['threshold-policy'];
    if (policyFlag !== undefined && policyFlag !== 'alert-budget' && policyFlag !== 'contamination')
      throw new UsageError(
        `--threshold-policy must be 'alert-budget' or 'contamination', got '${policyFlag}'`,
      );
    if (policyFlag !== undefined && fixed !== undefined)
      throw new UsageError(
        '--threshold and --threshold-policy: give a fixed threshold or a policy, not both',
      );
    const policy = fixed ?? policyFlag ?? 'alert-budget';
    const table = await readMetricsCsv(input, {
      allowMissing: true,
      ...columnFlags(values, false, true),
    });
    warnTimes(stderr, 'train', table);
    const series = table.entities ? entityIds(table.entities).ids : undefined;
    if (table.matrix.rows < 30)
      throw new CsvError(input, `${table.matrix.rows} rows: training needs at least 30`);
    const fields = table.featureNames;
    const progress = new Progress(stderr);
    let bundle = trainPipeline(
      {
        raw: table.matrix,
        ...(table.timeMs ? { timeMs: table.timeMs } : {}),
        ...(table.labels ? { labels: table.labels } : {}),
        ...(series ? { series } : {}),
      },
      {
        features: {
          fields,
          shingle: shingleFlag ?? (fields.length === 1 ? 8 : 1),
          delta: values.delta === true,
        },
        ...(seed !== undefined ? { seed } : {}),
        ...(outOfRange !== undefined ? { outOfRange } : {}),
        onProgress: (done, total) => progress.update('grid search', done, total),
      },
    );
    if (policy !== 'contamination') bundle = withPolicy(bundle, table.matrix, table.timeMs, series, policy);
    progress.finish();
    await writeFileAtomic(out, `${JSON.stringify(bundle)}\n`);
    if (values['grid-csv']) {
      await writeCsvAtomic(
        values['grid-csv'],
        [
          'trees',
          'max_samples',
          'shingle',
          'contamination',
          bundle.criterion === 'f1' ? 'validation_f1' : 'mass_volume_area',
        ],
        bundle.grid.map((r) => [
          String(r.trees),
          String(r.maxSamples),
          String(r.shingle),
          String(r.contamination),
          String(r.value),
        ]),
      );
    }
    if (values.plot) {
      // The final model's scores on the test part, features computed over the whole series (causal).
      const forest = bundleForest(bundle);
      const batch = transformBatch(bundle.features, table.matrix, table.timeMs, series);
      const [testStart] = bundle.split.test;
      const rows: number[] = [];
      batch.sourceRow.forEach((r, i) => {
        if (r >= testStart) rows.push(i);
      });
      const scores = rows.map((i) =>
        forest.scoreOne(batch.matrix.data.subarray(i * batch.matrix.cols, (i + 1) * batch.matrix.cols)),
      );
      const labels = table.labels ? rows.map((i) => table.labels![batch.sourceRow[i]!]!) : undefined;
      const title = `test part: ${rows.length} rows, threshold ${bundle.threshold.toFixed(3)}${labels ? ' (orange: labelled anomalous)' : ''}`;
      await writeFileAtomic(values.plot, svgScoreHistogram(title, scores, labels, bundle.threshold));
    }
    const { model: _model, reference: _reference, ...summary } = bundle;
    const thresholdBy =
      typeof policy === 'number'
        ? 'fixed'
        : policy === 'contamination'
          ? `contamination ${bundle.chosen.contamination}`
          : 'alert budget';
    stdout.write(
      values.json
        ? `${JSON.stringify({ ...summary, thresholdBy }, null, 2)}\n`
        : report(bundle, input, out, thresholdBy),
    );
    return 0;
  },
};

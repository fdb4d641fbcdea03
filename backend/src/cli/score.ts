import { parseArgs } from 'node:util';
import {
  averagePrecision,
  eventRecall,
  IsolationForest,
  pointMetrics,
  rocAuc,
  transformBatch,
  type Matrix,
} from '../engine/index.js';
import {
  alignFeatures,
  CsvError,
  readMetricsCsv,
  writeCsvAtomic,
  type MetricsTable,
} from '../io/csv/index.js';
import { scoreBatchParallel } from '../parallel/score-pool.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import {
  alertBudgetThreshold,
  columnFlags,
  columnUsage,
  contaminationFlag,
  DEFAULT_ALERT_RULE,
  ENTITY_COLUMN_OPTIONS,
  entityIds,
  integerFlag,
  maxSamplesFlag,
  outOfRangeFlag,
  requiredFlag,
  thresholdFlag,
  warnTimes,
} from './options.js';
import { Progress } from './progress.js';
import { readModelFile } from './train.js';

/** The alert rule the budget is set against, in words. */
const RULE = `${DEFAULT_ALERT_RULE.minAnomalous - 1} anomalous points among ${DEFAULT_ALERT_RULE.window}`;

const usage = `Usage: isoscope score (--train train.csv | --model model.isoscope) --input in.csv --output out.csv [options]

Scores every row of the input CSV with an isolation forest: one fitted here on the training CSV
(raw columns), or the model file \`isoscope train\` wrote (its features: shingle, delta …).
Every numeric column is a feature, except the time column, the entity column and the label.

Which rows are flagged (is_anomaly) follows the service's default decision rule, the alert
budget: the threshold is the lowest score at which an alert rule of ${RULE}
would raise no alert on the training rows, so quiet data stays quiet. A model file carries the
threshold train chose the same way. See docs/cli.md.

Options:
  --train FILE            CSV of (mostly) normal rows to learn from
  --model FILE            a model file from isoscope train, instead of --train
  --input FILE            CSV to score (same feature columns, any order)
  --output FILE           where to write timestamp (if any), the entity (if any), score,
                          is_anomaly, top_feature
  --label-column NAME     0/1 ground truth, not a feature; when the input has it, a summary is printed
${columnUsage([
  'a text column such as host: with --train one model per value, fitted on',
  "that value's training rows; with --model the model's look-back stays",
  "within each value's rows; output in the input's row order",
])}
  --threshold S           flag scores above S instead of the alert budget
  --contamination X|auto  with --train: the threshold is the training scores' 1 − X quantile
                          (auto: 0.5, scikit-learn's), instead of the alert budget
  --trees N               with --train: trees in the forest (default 100)
  --max-samples N|auto    with --train: rows drawn per tree (default auto = min(256, rows))
  --seed N                with --train: random seed (default 0): same seed and data, same model
  --out-of-range MODE     with --train: isolate (default, as train and the service): a value
                          beyond the training data scores higher the further beyond it is;
                          clamp: scikit-learn's scoring, like the most extreme training row
  --workers N             scoring threads (default: as many as the batch is worth)
  --no-explain            leave top_feature empty: skips TreeSHAP (about 0.05 ms per flagged row
                          and 100 trees), for when only scores are needed
`;

/** Share of flagged rows above which the summary warns: the input is likely not like the training data. */
const WARN_FLAGGED_SHARE = 0.05;

/** One model's part of the output: which input rows it scored, and their results. */
interface Part {
  rows: ArrayLike<number>;
  scores: Float64Array;
  topFeature: Int32Array;
  forest: IsolationForest;
  featureNames: string[];
}

/**
 * An empty cell takes its column's last value (causal, as the stream's features do); rows before
 * a column's first value cannot be scored and are left out (`kept` lists the rows that stay).
 */
function fillForward(m: Matrix): { x: Matrix; kept: number[]; imputed: number } {
  const last = new Float64Array(m.cols).fill(Number.NaN);
  const row = new Float64Array(m.cols);
  const data = new Float64Array(m.rows * m.cols);
  const kept: number[] = [];
  let imputed = 0;
  for (let r = 0; r < m.rows; r++) {
    let complete = true;
    for (let c = 0; c < m.cols; c++) {
      let v = m.data[r * m.cols + c]!;
      if (Number.isFinite(v)) last[c] = v;
      else if (Number.isFinite(last[c]!)) {
        v = last[c]!;
        imputed++;
      } else complete = false;
      row[c] = v;
    }
    if (complete) {
      data.set(row, kept.length * m.cols);
      kept.push(r);
    }
  }
  return {
    x: { rows: kept.length, cols: m.cols, data: data.subarray(0, kept.length * m.cols) },
    kept,
    imputed,
  };
}

function rowsOf(x: Matrix, rows: readonly number[]): Matrix {
  const data = new Float64Array(rows.length * x.cols);
  rows.forEach((r, i) => data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return { rows: rows.length, cols: x.cols, data };
}

export const command: CliCommand = {
  usage,
  async run({ argv, stdout, stderr }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        train: { type: 'string' },
        model: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        ...ENTITY_COLUMN_OPTIONS,
        trees: { type: 'string' },
        'max-samples': { type: 'string' },
        contamination: { type: 'string' },
        threshold: { type: 'string' },
        seed: { type: 'string' },
        'out-of-range': { type: 'string' },
        workers: { type: 'string' },
        'no-explain': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.train !== undefined && values.model !== undefined)
      throw new UsageError('--train and --model: fit a forest on a CSV or use a model file, not both');
    if (values.model !== undefined) {
      const fitOnly = (['trees', 'max-samples', 'contamination', 'seed', 'out-of-range'] as const).find(
        (f) => values[f] !== undefined,
      );
      if (fitOnly)
        throw new UsageError(`--${fitOnly} fits a forest: it goes with --train, the model file has its own`);
    }
    if (values.train === undefined && values.model === undefined)
      throw new UsageError(
        '--train FILE (fit a forest here) or --model FILE (from isoscope train) is required',
      );
    const trainFile = values.model === undefined ? requiredFlag(values, 'train') : undefined;
    const inputFile = requiredFlag(values, 'input');
    const outputFile = requiredFlag(values, 'output');
    const labelColumn = values['label-column'];
    const trees = integerFlag(values.trees, 'trees', 1, 10_000);
    const seed = integerFlag(values.seed, 'seed', 0, 0xffffffff);
    const workers = integerFlag(values.workers, 'workers', 1, 256);
    const maxSamples = maxSamplesFlag(values['max-samples']);
    const contamination = contaminationFlag(values.contamination);
    const threshold = thresholdFlag(values.threshold);
    const outOfRange = outOfRangeFlag(values['out-of-range']);
    const explainFlagged = values['no-explain'] !== true;

    const progress = new Progress(stderr);
    const readOptions = columnFlags(values, true, true);
    const model = values.model !== undefined ? await readModelFile(values.model) : undefined;
    progress.update('reading', 0, 2);
    let train: MetricsTable | undefined;
    if (trainFile !== undefined) {
      train = await readMetricsCsv(trainFile, { ...readOptions, allowMissing: true });
      warnTimes(stderr, 'score', train);
    }
    progress.update('reading', 1, 2);
    const input =
      train && trainFile === inputFile
        ? train
        : await readMetricsCsv(inputFile, { ...readOptions, allowMissing: true });
    if (input !== train) warnTimes(stderr, 'score', input);
    if (input === train && values.threshold === undefined && values.contamination === undefined)
      stderr.write(
        `isoscope score: note: ${inputFile} is both the training data and the input: the alert budget takes it as normal, so an incident that lasts in it lifts the threshold above itself; fit on a quiet stretch, or give --contamination or --threshold\n`,
      );
    if (
      labelColumn !== undefined &&
      !(train?.header.includes(labelColumn) ?? false) &&
      !input.header.includes(labelColumn)
    ) {
      throw new UsageError(
        `--label-column '${labelColumn}' is in neither ${trainFile ?? values.model} nor ${inputFile}`,
      );
    }
    const batchOptions = {
      ...(workers !== undefined ? { workers } : {}),
      onProgress: (stage: string, done: number, total: number) => progress.update(stage, done, total),
    };
    const entities = input.entities ? entityIds(input.entities) : undefined;
    const parts: Part[] = [];
    let thresholdBy: string;
    let imputed = 0;

    if (model) {
      // The model's own features over each entity's rows in file order; rows still inside the
      // look-back (the first shingle − 1 rows of each entity) have no score, as in replay.
      const { bundle } = model;
      const forest = threshold !== undefined ? model.forest.withThreshold(threshold) : model.forest;
      thresholdBy = threshold !== undefined ? 'fixed' : `from ${values.model}`;
      const raw = alignFeatures(input, bundle.features.fields);
      const batch = transformBatch(bundle.features, raw, input.timeMs, entities?.ids);
      imputed += batch.imputed;
      const result = await scoreBatchParallel(forest, batch.matrix, { ...batchOptions, explainFlagged });
      parts.push({ rows: batch.sourceRow, ...result, forest, featureNames: bundle.featureNames });
    } else {
      const fit = train!;
      const x = alignFeatures(input, fit.featureNames);
      const all = (n: number): number[] => Array.from({ length: n }, (_, r) => r);
      // One forest per entity (or one for all): the training rows of that entity, then its input rows.
      const groups: Array<{ trainRows: number[]; inputRows: number[] }> = [];
      if (entities) {
        const trainIds = entityIds(fit.entities!);
        const byName = new Map<string, { trainRows: number[]; inputRows: number[] }>();
        trainIds.names.forEach((name) => byName.set(name, { trainRows: [], inputRows: [] }));
        trainIds.ids.forEach((id, r) => byName.get(trainIds.names[id]!)!.trainRows.push(r));
        input.entities!.forEach((name, r) => {
          const group = byName.get(name);
          if (!group)
            throw new CsvError(
              inputFile,
              `${input.entityColumn} '${name}' has no rows in ${trainFile}: there is no model for it`,
              input.lines[r]!,
              input.entityColumn,
            );
          group.inputRows.push(r);
        });
        for (const group of byName.values()) if (group.inputRows.length > 0) groups.push(group);
      } else {
        groups.push({ trainRows: all(fit.matrix.rows), inputRows: all(x.rows) });
      }
      thresholdBy =
        threshold !== undefined
          ? 'fixed'
          : contamination !== undefined
            ? `contamination ${contamination}`
            : 'alert budget';
      for (const [i, group] of groups.entries()) {
        progress.update('fitting', i, groups.length);
        const trainPart = fillForward(rowsOf(fit.matrix, group.trainRows));
        imputed += trainPart.imputed;
        const trainX = trainPart.x;
        let forest = IsolationForest.fit(trainX, {
          ...(trees !== undefined ? { trees } : {}),
          ...(maxSamples !== undefined ? { maxSamples } : {}),
          ...(contamination !== undefined ? { contamination } : {}),
          ...(threshold !== undefined ? { threshold } : {}),
          ...(seed !== undefined ? { seed } : {}),
          // As train and the service: rows scored after training, where a value beyond anything
          // seen is what matters; 'clamp' scores a spike like the busiest training row, which the
          // alert budget's threshold (set on those rows) then never flags.
          outOfRange: outOfRange ?? 'isolate',
        });
        const inputPart = input === fit ? trainPart : fillForward(rowsOf(x, group.inputRows));
        if (input !== fit) imputed += inputPart.imputed;
        const inputX = inputPart.x;
        let result: { scores: Float64Array; topFeature: Int32Array };
        if (threshold === undefined && contamination === undefined) {
          // The training rows in file order: the alert rule looks at consecutive points.
          const own = await scoreBatchParallel(forest, trainX, { ...batchOptions, explainFlagged: false });
          forest = forest.withThreshold(alertBudgetThreshold(own.scores));
          // Scoring a file against itself (the usual first look at a file): its scores are known.
          const scores =
            input === fit
              ? own.scores
              : (await scoreBatchParallel(forest, inputX, { ...batchOptions, explainFlagged: false })).scores;
          result = { scores, topFeature: new Int32Array(scores.length).fill(-1) };
          if (explainFlagged && result.scores.some((score) => forest.isAnomaly(score))) {
            const flaggedRows: number[] = [];
            scores.forEach((score, k) => {
              if (forest.isAnomaly(score)) flaggedRows.push(k);
            });
            const explained = await scoreBatchParallel(forest, rowsOf(inputX, flaggedRows), {
              ...batchOptions,
              explainFlagged: true,
            });
            flaggedRows.forEach((k, j) => (result.topFeature[k] = explained.topFeature[j]!));
          }
        } else {
          result = await scoreBatchParallel(forest, inputX, { ...batchOptions, explainFlagged });
        }
        parts.push({
          rows: inputPart.kept.map((k) => group.inputRows[k]!),
          ...result,
          forest,
          featureNames: fit.featureNames,
        });
      }
    }

    // Back to the input's row order.
    const rows = input.matrix.rows;
    const scores = new Float64Array(rows);
    const flags = new Uint8Array(rows);
    const top = new Array<string>(rows).fill('');
    for (const part of parts) {
      for (let i = 0; i < part.rows.length; i++) {
        const r = part.rows[i]!;
        scores[r] = part.scores[i]!;
        flags[r] = part.forest.isAnomaly(part.scores[i]!) ? 1 : 0;
        if (part.topFeature[i]! >= 0) top[r] = part.featureNames[part.topFeature[i]!]!;
      }
    }
    const flagged = flags.reduce((s, v) => s + v, 0);

    progress.update('writing', 0, 1);
    const timestamps = input.timestampRaw;
    const header = [
      ...(input.timestampColumn !== undefined ? [input.timestampColumn] : []),
      ...(input.entityColumn !== undefined ? [input.entityColumn] : []),
      'score',
      'is_anomaly',
      'top_feature',
    ];
    function* lines(): Generator<string[]> {
      for (let r = 0; r < rows; r++) {
        yield [
          ...(timestamps ? [timestamps[r]!] : []),
          ...(input.entities ? [input.entities[r]!] : []),
          scores[r]!.toFixed(6),
          flags[r] ? '1' : '0',
          top[r]!,
        ];
      }
    }
    await writeCsvAtomic(outputFile, header, lines());
    progress.finish();

    const first = parts[0]!.forest;
    const thresholds =
      parts.length === 1
        ? `threshold ${first.threshold.toFixed(4)}`
        : `thresholds ${Math.min(...parts.map((p) => p.forest.threshold)).toFixed(4)}–${Math.max(...parts.map((p) => p.forest.threshold)).toFixed(4)}`;
    const models =
      parts.length === 1
        ? `${first.params.trees} trees (max samples ${first.params.maxSamples}, ${thresholds}, ${thresholdBy})`
        : `${parts.length} models, one per ${input.entityColumn} (${first.params.trees} trees each, ${thresholds}, ${thresholdBy})`;
    const share = flagged / Math.max(1, rows);
    const scoredRows = parts.reduce((n, p) => n + p.rows.length, 0);
    const summary = [
      `scored ${rows} rows of ${inputFile} with ${models}: ${flagged} flagged (${(100 * share).toFixed(2)}%) → ${outputFile}`,
    ];
    if (imputed > 0 || scoredRows < rows)
      summary.push(
        `${imputed} empty cell${imputed === 1 ? '' : 's'} took the last value of their column; ${rows - scoredRows} row${rows - scoredRows === 1 ? '' : 's'} ${model ? "in the model's look-back or " : ''}before a column's first value have score 0`,
      );
    if (share > WARN_FLAGGED_SHARE)
      stderr.write(
        `isoscope score: warning: ${(100 * share).toFixed(1)}% of the rows of ${inputFile} are flagged: the input is not like the training data, or the threshold (${thresholdBy}) is too low for it\n`,
      );
    if (input.labels) {
      const m = pointMetrics(flags, input.labels);
      const events = eventRecall(flags, input.labels);
      summary.push(
        `against '${labelColumn}': ROC-AUC ${rocAuc(scores, input.labels).toFixed(3)}, PR-AUC ${averagePrecision(scores, input.labels).toFixed(3)}, ` +
          `precision ${m.precision.toFixed(3)}, recall ${m.recall.toFixed(3)}, F1 ${m.f1.toFixed(3)}, incidents found ${events.found}/${events.events.length}`,
      );
    }
    stdout.write(`${summary.join('\n')}\n`);
    return 0;
  },
};

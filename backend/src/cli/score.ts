import { parseArgs } from 'node:util';
import { averagePrecision, eventRecall, IsolationForest, pointMetrics, rocAuc } from '../engine/index.js';
import { alignFeatures, readMetricsCsv, writeCsvAtomic } from '../io/csv/index.js';
import { scoreBatchParallel } from '../parallel/score-pool.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import {
  columnFlags,
  contaminationFlag,
  integerFlag,
  maxSamplesFlag,
  outOfRangeFlag,
  requiredFlag,
  thresholdFlag,
} from './options.js';
import { Progress } from './progress.js';

const usage = `Usage: isoscope score --train train.csv --input in.csv --output out.csv [options]

Fits an isolation forest on the training CSV and scores every row of the input CSV.
Every numeric column is a feature, except the time column (timestamp, time or _time) and the label.

Options:
  --train FILE            CSV of (mostly) normal rows to learn from
  --input FILE            CSV to score (same feature columns, any order)
  --output FILE           where to write timestamp (if any), score, is_anomaly, top_feature
  --label-column NAME     0/1 ground truth, not a feature; when the input has it, a summary is printed
  --ignore-column NAME    a column that is not a feature (a tag such as host); repeatable
  --trees N               trees in the forest (default 100)
  --max-samples N|auto    rows drawn per tree (default auto = min(256, rows))
  --contamination X|auto  expected share of anomalies in the training data (default auto: threshold 0.5)
  --threshold S           flag scores above S (overrides --contamination)
  --seed N                random seed (default 0): same seed and data, same model
  --out-of-range MODE     clamp (default, scikit-learn's scoring): a value beyond the training
                          data scores like the most extreme training row; isolate: the further
                          beyond, the higher (for input that comes after the training data)
  --workers N             scoring threads (default: as many as the batch is worth)
  --no-explain            leave top_feature empty: skips TreeSHAP (about 0.7 ms per flagged row
                          and 100 trees), for when only scores are needed
`;

export const command: CliCommand = {
  usage,
  async run({ argv, stdout, stderr }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        train: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        'label-column': { type: 'string' },
        'ignore-column': { type: 'string', multiple: true },
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
    const trainFile = requiredFlag(values, 'train');
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

    const progress = new Progress(stderr);
    const readOptions = columnFlags(values, true);
    progress.update('reading', 0, 2);
    const train = await readMetricsCsv(trainFile, readOptions);
    progress.update('reading', 1, 2);
    const input = trainFile === inputFile ? train : await readMetricsCsv(inputFile, readOptions);
    if (
      labelColumn !== undefined &&
      !train.header.includes(labelColumn) &&
      !input.header.includes(labelColumn)
    ) {
      throw new UsageError(`--label-column '${labelColumn}' is in neither ${trainFile} nor ${inputFile}`);
    }
    const x = alignFeatures(input, train.featureNames);

    progress.update('fitting', 0, 1);
    const forest = IsolationForest.fit(train.matrix, {
      ...(trees !== undefined ? { trees } : {}),
      ...(maxSamples !== undefined ? { maxSamples } : {}),
      ...(contamination !== undefined ? { contamination } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(outOfRange !== undefined ? { outOfRange } : {}),
    });
    const { scores, topFeature } = await scoreBatchParallel(forest, x, {
      ...(workers !== undefined ? { workers } : {}),
      explainFlagged: values['no-explain'] !== true,
      onProgress: (stage, done, total) => progress.update(stage, done, total),
    });
    let flagged = 0;
    for (let r = 0; r < x.rows; r++) if (forest.isAnomaly(scores[r]!)) flagged++;

    progress.update('writing', 0, 1);
    const timestamps = input.timestampRaw;
    const header = [
      ...(input.timestampColumn !== undefined ? [input.timestampColumn] : []),
      'score',
      'is_anomaly',
      'top_feature',
    ];
    function* rows(): Generator<string[]> {
      for (let r = 0; r < x.rows; r++) {
        const cells = [
          scores[r]!.toFixed(6),
          forest.isAnomaly(scores[r]!) ? '1' : '0',
          topFeature[r]! >= 0 ? train.featureNames[topFeature[r]!]! : '',
        ];
        yield timestamps ? [timestamps[r]!, ...cells] : cells;
      }
    }
    await writeCsvAtomic(outputFile, header, rows());
    progress.finish();

    const summary = [
      `scored ${x.rows} rows of ${inputFile} with ${forest.params.trees} trees (max samples ${forest.params.maxSamples}, threshold ${forest.threshold.toFixed(4)}): ${flagged} flagged (${((100 * flagged) / x.rows).toFixed(2)}%) → ${outputFile}`,
    ];
    if (input.labels) {
      const flags = Array.from(scores, (s) => (forest.isAnomaly(s) ? 1 : 0));
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

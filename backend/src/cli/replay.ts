import { parseArgs } from 'node:util';
import {
  averagePrecision,
  defaultStreamFeatures,
  EngineError,
  eventRecall,
  rocAuc,
  StreamingDetector,
} from '../engine/index.js';
import { CsvError, readMetricsCsv, writeCsvAtomic } from '../io/csv/index.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import { columnFlags, contaminationFlag, integerFlag, requiredFlag } from './options.js';
import { Progress } from './progress.js';

const usage = `Usage: isoscope replay --input in.csv --output out.csv [options]

Runs a CSV through the streaming detector one row at a time, as live data would arrive: it warms
up, trains its first model, scores each row on arrival and retrains on a sliding window. Output
is causal (row k never depends on rows after k) and the same seed gives byte-identical output.

The input needs a time column (timestamp, time or _time: ISO 8601 or epoch seconds/milliseconds,
increasing) and one or more numeric columns; empty cells are missing values (filled causally).
Output: timestamp,score,is_anomaly,top_feature — score at full precision, 0 while warming up.

Options:
  --input FILE            the rows to replay
  --output FILE           where to write the scores
  --seed N                random seed (default 0)
  --warmup N              rows collected before the first model (default 512)
  --retrain-every N       retrain after N rows (default: the warm-up; 0 = never)
  --window N              rows kept for retraining (default 8192)
  --shingle N             the last N values of each column as one vector (default 8 for a single
                          column, 1 otherwise); every column also gets its delta
  --contamination X       expected share of anomalies; the threshold is that quantile (default 0.01)
  --smoothing N           report the mean score of the last N rows (default 3 without a shingle,
                          1 with one)
  --label-column NAME     0/1 ground truth, not a feature: a summary is printed against it
  --ignore-column NAME    a column that is not a feature; repeatable
`;

export const command: CliCommand = {
  usage,
  async run({ argv, stdout, stderr }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        output: { type: 'string' },
        seed: { type: 'string' },
        warmup: { type: 'string' },
        'retrain-every': { type: 'string' },
        window: { type: 'string' },
        shingle: { type: 'string' },
        contamination: { type: 'string' },
        smoothing: { type: 'string' },
        'label-column': { type: 'string' },
        'ignore-column': { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    });
    const input = requiredFlag(values, 'input');
    const output = requiredFlag(values, 'output');
    const seed = integerFlag(values.seed, 'seed', 0, 0xffffffff);
    const warmup = integerFlag(values.warmup, 'warmup', 2, 10_000_000);
    const retrainEvery = integerFlag(values['retrain-every'], 'retrain-every', 0, 10_000_000);
    const window = integerFlag(values.window, 'window', 2, 10_000_000);
    const shingleFlag = integerFlag(values.shingle, 'shingle', 1, 64);
    const contamination = contaminationFlag(values.contamination);
    const smoothing = integerFlag(values.smoothing, 'smoothing', 1, 10_000);
    if (contamination === 'auto')
      throw new UsageError(
        "--contamination must be a number in (0, 0.5] for replay: the threshold follows each model's training scores",
      );
    if (warmup !== undefined && window !== undefined && window < warmup) {
      throw new UsageError(
        `--window (${window}) must be at least --warmup (${warmup}): the first model trains on the warm-up rows`,
      );
    }
    const labelColumn = values['label-column'];

    const progress = new Progress(stderr);
    const table = await readMetricsCsv(input, {
      allowMissing: true,
      ...columnFlags(values),
    });
    if (!table.timeMs || !table.timestampRaw || table.timestampColumn === undefined) {
      throw new CsvError(input, 'no time column: replay needs timestamp, time or _time', 1);
    }
    const fields = table.featureNames;
    const detector = new StreamingDetector({
      features: defaultStreamFeatures(fields, shingleFlag),
      ...(warmup !== undefined ? { warmup } : {}),
      ...(retrainEvery !== undefined ? { retrainEvery } : {}),
      ...(window !== undefined ? { window } : {}),
      ...(contamination !== undefined ? { contamination } : {}),
      ...(smoothing !== undefined ? { smoothing } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });

    const { rows, cols, data } = table.matrix;
    const scores = new Float64Array(rows);
    const flags = new Uint8Array(rows);
    const top = new Array<string>(rows).fill('');
    const started = performance.now();
    for (let r = 0; r < rows; r++) {
      let result;
      try {
        result = detector.push(data.subarray(r * cols, (r + 1) * cols), table.timeMs[r]!);
      } catch (err) {
        // The transformer names the problem; the file's line is what the user can fix.
        if (err instanceof EngineError)
          throw new CsvError(
            input,
            err.message.replace(/^features: /, ''),
            table.lines[r]!,
            table.timestampColumn,
          );
        throw err;
      }
      scores[r] = result.score;
      flags[r] = result.isAnomaly ? 1 : 0;
      if (result.topFeature !== undefined) top[r] = result.topFeature;
      if ((r & 1023) === 0) progress.update('replaying', r, rows);
    }
    progress.update('replaying', rows, rows);
    const seconds = (performance.now() - started) / 1000;
    const timestamps = table.timestampRaw;
    function* lines(): Generator<string[]> {
      // String(x) is the shortest text that reads back as the same double: full precision.
      for (let r = 0; r < rows; r++) yield [timestamps[r]!, String(scores[r]), flags[r] ? '1' : '0', top[r]!];
    }
    await writeCsvAtomic(output, ['timestamp', 'score', 'is_anomaly', 'top_feature'], lines());
    progress.finish();
    const flagged = flags.reduce((s, v) => s + v, 0);
    const summary = [
      `replayed ${rows} rows of ${input} (${fields.length} column${fields.length > 1 ? 's' : ''}, ${detector.featureNames.length} features, ${detector.snapshot().modelVersion} models) at ${Math.round(rows / seconds)} rows/s: ${flagged} flagged → ${output}`,
    ];
    if (table.labels) {
      const events = eventRecall(flags, table.labels, table.timeMs);
      summary.push(
        `against '${labelColumn}': ROC-AUC ${rocAuc(scores, table.labels).toFixed(3)}, PR-AUC ${averagePrecision(scores, table.labels).toFixed(3)}, incidents found ${events.found}/${events.events.length}`,
      );
    }
    stdout.write(`${summary.join('\n')}\n`);
    return 0;
  },
};

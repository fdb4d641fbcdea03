import { parseArgs } from 'node:util';
import {
  averagePrecision,
  defaultStreamFeatures,
  EngineError,
  EPISODE_GAP,
  explain,
  FeatureTransformer,
  operatorMetrics,
  rocAuc,
  StreamingDetector,
  type IsolationForest,
  type ModelBundle,
  type StreamResult,
} from '../engine/index.js';
import { alignFeatures, CsvError, readMetricsCsv, writeCsvAtomic } from '../io/csv/index.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import {
  columnFlags,
  columnUsage,
  contaminationFlag,
  ENTITY_COLUMN_OPTIONS,
  integerFlag,
  positiveNumberFlag,
  requiredFlag,
  thresholdFlag,
  warnTimes,
} from './options.js';
import { operatorLines } from './format.js';
import { Progress } from './progress.js';
import { readModelFile } from './train.js';

const usage = `Usage: isoscope replay --input in.csv --output out.csv [options]

Runs a CSV through the streaming detector one row at a time, as live data would arrive: it warms
up, trains its first model, scores each row on arrival and retrains on a sliding window. Output
is causal (row k never depends on rows after k) and the same seed gives byte-identical output.

The input needs a time column (timestamp, time or _time, or --time-column: ISO 8601 or epoch
seconds/milliseconds) and one or more numeric columns; empty cells are missing values (filled
causally). Rows are taken in file order: a time that repeats or steps back (daylight saving, a
clock step) is kept where it is, with a warning on stderr.
Output: timestamp, the entity (with --entity-column), score, is_anomaly, top_feature — score at
full precision, 0 while warming up. Scores are calibrated: 0.5 is the threshold on every series, a
row is flagged when it is rarer than the alert budget allows among the stream's recent normal rows.

With --model, the model file from isoscope train scores the rows of the warm-up (its features, its
threshold), so nothing goes unscored while the stream collects its first window; from the stream's
first model on, the stream scores. Each row is judged against the threshold of the model that scored
it.

Options:
  --input FILE            the rows to replay
  --output FILE           where to write the scores
  --model FILE            a model file from isoscope train: scores the warm-up rows
  --seed N                random seed (default 0)
  --warmup N              rows collected before the first model (default 512)
  --retrain-every N       retrain after N rows (default: the warm-up; 0 = never)
  --window N              rows kept for retraining (default 8192)
  --shingle N             the last N values of each column as one vector (default 8 for a single
                          column, 1 otherwise); every column also gets its delta
  --alerts-per-day X      the alert budget: alerts a day each metric may raise on normal data
                          (default 0.05); metrics that move together count as one (a stream of
                          38 metrics, about 24 of them independent, may raise 24 x 0.05); higher
                          finds milder incidents, with more false alarms
  --contamination X       share of a window left out of learning as anomalous (default 0.01)
  --smoothing N           report the mean score of the last N rows (default 3 without a shingle,
                          1 with one)
  --threshold S           with --model: flag the model's scores above S instead of its threshold
  --label-column NAME     0/1 ground truth, not a feature: a summary is printed against it
${columnUsage([
  'a text column such as host: one stream per value, fed its rows in file',
  "order, as if alone; output in the input's row order",
])}
`;

/** Rows of one entity handed to its stream at a time: between progress reports. */
const REPLAY_PIECE = 8192;

/** What replay writes of a row, whoever scored it (the stream's results carry more). */
interface Scored {
  score: number;
  isAnomaly: boolean;
  topFeature?: string;
  /** The stream's model version; 0 while the stream has none. */
  modelVersion: number;
}

/**
 * The model file's forest over one entity's rows until that entity's stream has a model of its
 * own. Its features come from its own transformer (the bundle's spec: shingle, delta …), which
 * sees every row up to the hand-over, so its look-back is as full as in training.
 */
class Bootstrap {
  private readonly transformer: FeatureTransformer;

  constructor(
    private readonly bundle: ModelBundle,
    private readonly forest: IsolationForest,
  ) {
    this.transformer = new FeatureTransformer(bundle.features);
  }

  push(values: ArrayLike<number>, timeMs: number): Scored {
    const x = this.transformer.push(values, timeMs);
    if (!x) return { score: 0, isAnomaly: false, modelVersion: 0 };
    const raw = this.forest.scoreOne(x);
    const isAnomaly = this.forest.isAnomaly(raw);
    // On the stream's scale, 0.5 at the threshold: s ↦ s^(ln 0.5 / ln t) keeps the order.
    const score = Math.pow(raw, Math.log(0.5) / Math.log(this.forest.threshold));
    const result: Scored = { score, isAnomaly, modelVersion: 0 };
    if (isAnomaly) {
      const c = explain(this.forest, x).contributions;
      let best = 0;
      for (let i = 1; i < c.length; i++) if (c[i]! > c[best]!) best = i;
      result.topFeature = this.bundle.featureNames[best]!;
    }
    return result;
  }
}

export const command: CliCommand = {
  usage,
  async run({ argv, stdout, stderr }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        output: { type: 'string' },
        model: { type: 'string' },
        threshold: { type: 'string' },
        seed: { type: 'string' },
        warmup: { type: 'string' },
        'retrain-every': { type: 'string' },
        window: { type: 'string' },
        shingle: { type: 'string' },
        contamination: { type: 'string' },
        smoothing: { type: 'string' },
        'alerts-per-day': { type: 'string' },
        ...ENTITY_COLUMN_OPTIONS,
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
    const alertsPerDay = positiveNumberFlag(values['alerts-per-day'], 'alerts-per-day');
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
    const threshold = thresholdFlag(values.threshold);
    if (threshold !== undefined && values.model === undefined)
      throw new UsageError(
        "--threshold goes with --model: the stream's threshold follows each model's training scores (--contamination)",
      );
    const model = values.model !== undefined ? await readModelFile(values.model) : undefined;

    const progress = new Progress(stderr);
    const table = await readMetricsCsv(input, {
      allowMissing: true,
      ...columnFlags(values, false, true),
    });
    warnTimes(stderr, 'replay', table);
    if (!table.timeMs || !table.timestampRaw || table.timestampColumn === undefined) {
      throw new CsvError(
        input,
        'no time column: replay needs timestamp, time or _time, or --time-column NAME',
        1,
      );
    }
    const timeMs = table.timeMs;
    // With a model, its columns in its order (a column it was not trained on is an error).
    const fields = model ? model.bundle.features.fields : table.featureNames;
    const matrix = model ? alignFeatures(table, fields) : table.matrix;
    const forest = model && threshold !== undefined ? model.forest.withThreshold(threshold) : model?.forest;
    const options = {
      features: defaultStreamFeatures(fields, shingleFlag),
      ...(warmup !== undefined ? { warmup } : {}),
      ...(retrainEvery !== undefined ? { retrainEvery } : {}),
      ...(window !== undefined ? { window } : {}),
      ...(contamination !== undefined ? { contamination } : {}),
      ...(smoothing !== undefined ? { smoothing } : {}),
      ...(alertsPerDay !== undefined ? { alertsPerDay } : {}),
      ...(seed !== undefined ? { seed } : {}),
    };
    // One stream per entity (one in all without --entity-column), each fed its rows in file order.
    const streams = new Map<string, { detector: StreamingDetector; bootstrap?: Bootstrap }>();
    const streamOf = (entity: string): { detector: StreamingDetector; bootstrap?: Bootstrap } => {
      let stream = streams.get(entity);
      if (!stream) {
        stream = {
          detector: new StreamingDetector(options),
          ...(model && forest ? { bootstrap: new Bootstrap(model.bundle, forest) } : {}),
        };
        streams.set(entity, stream);
      }
      return stream;
    };

    const { rows, cols, data } = matrix;
    const scores = new Float64Array(rows);
    const flags = new Uint8Array(rows);
    const top = new Array<string>(rows).fill('');
    let byModel = 0;
    const started = performance.now();
    // Each entity's rows in file order, taken a piece at a time: streams are independent, so this
    // gives what feeding the file's rows one by one would, and pushMany scores the rows between two
    // retrains together. A refused row is reported as the first in the file would be.
    const rowsOf = new Map<string, number[]>();
    for (let r = 0; r < rows; r++) {
      const entity = table.entities ? table.entities[r]! : '';
      let list = rowsOf.get(entity);
      if (!list) rowsOf.set(entity, (list = []));
      list.push(r);
    }
    let refused: { row: number; err: EngineError } | undefined;
    const refuse = (row: number, err: unknown): void => {
      if (!(err instanceof EngineError)) throw err;
      if (!refused || row < refused.row) refused = { row, err };
    };
    let done = 0;
    for (const [entity, list] of rowsOf) {
      const stream = streamOf(entity);
      for (let from = 0; from < list.length && !refused; from += REPLAY_PIECE) {
        const piece = list.slice(from, from + REPLAY_PIECE);
        const values = new Float64Array(piece.length * cols);
        const times = new Float64Array(piece.length);
        piece.forEach((r, k) => {
          values.set(data.subarray(r * cols, (r + 1) * cols), k * cols);
          times[k] = timeMs[r]!;
        });
        const results: StreamResult[] = [];
        try {
          stream.detector.pushMany(values, times, results);
        } catch (err) {
          refuse(piece[results.length]!, err);
        }
        for (let k = 0; k < results.length; k++) {
          const r = piece[k]!;
          let result: Scored = results[k]!;
          if (stream.bootstrap) {
            if (result.modelVersion === 0) {
              try {
                result = stream.bootstrap.push(values.subarray(k * cols, (k + 1) * cols), times[k]!);
              } catch (err) {
                refuse(r, err);
                break;
              }
              if (result.score > 0) byModel++;
            } else delete stream.bootstrap; // the stream has its own model from here on
          }
          scores[r] = result.score;
          flags[r] = result.isAnomaly ? 1 : 0;
          if (result.topFeature !== undefined) top[r] = result.topFeature;
        }
        done += piece.length;
        progress.update('replaying', done, rows);
      }
    }
    // The transformer names the problem; the file's line is what the user can fix.
    if (refused)
      throw new CsvError(
        input,
        refused.err.message.replace(/^features: /, ''),
        table.lines[refused.row]!,
        table.timestampColumn,
      );
    progress.update('replaying', rows, rows);
    const seconds = (performance.now() - started) / 1000;
    const timestamps = table.timestampRaw;
    const entities = table.entities;
    function* lines(): Generator<string[]> {
      // String(x) is the shortest text that reads back as the same double: full precision.
      for (let r = 0; r < rows; r++)
        yield [
          timestamps[r]!,
          ...(entities ? [entities[r]!] : []),
          String(scores[r]),
          flags[r] ? '1' : '0',
          top[r]!,
        ];
    }
    await writeCsvAtomic(
      output,
      [
        'timestamp',
        ...(table.entityColumn !== undefined ? [table.entityColumn] : []),
        'score',
        'is_anomaly',
        'top_feature',
      ],
      lines(),
    );
    progress.finish();
    const flagged = flags.reduce((s, v) => s + v, 0);
    const detectors = [...streams.values()].map((s) => s.detector);
    const trainings = detectors.reduce((s, d) => s + d.trainings, 0);
    const summary = [
      `replayed ${rows} rows of ${input} (${fields.length} column${fields.length > 1 ? 's' : ''}, ${detectors[0]!.featureNames.length} features, ` +
        `${entities ? `${streams.size} streams, one per ${table.entityColumn}, ` : ''}${trainings} trainings) at ${Math.round(rows / seconds)} rows/s: ${flagged} flagged → ${output}`,
    ];
    if (model)
      summary.push(
        `${byModel} warm-up rows scored by ${values.model} (threshold ${forest!.threshold.toFixed(4)})`,
      );
    if (table.labels) {
      summary.push(
        `against '${labelColumn}': ROC-AUC ${rocAuc(scores, table.labels).toFixed(3)}, PR-AUC ${averagePrecision(scores, table.labels).toFixed(3)}`,
      );
      // What the decisions mean to the person on call, as isoscope evaluate prints it.
      const { outcomes: _outcomes, ...operator } = operatorMetrics({
        decisions: flags,
        labels: table.labels,
        times: timeMs,
        ...(entities ? { series: entities } : {}),
      });
      summary.push(...operatorLines(operator, EPISODE_GAP, true).map((l) => `  ${l}`));
    }
    stdout.write(`${summary.join('\n')}\n`);
    return 0;
  },
};

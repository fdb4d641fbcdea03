import {
  IsolationForest,
  thresholdForAlertBudget,
  trainPipeline,
  transformBatch,
  type ModelBundle,
} from '../../engine/index.js';
import type { EntitySeries } from '../../io/influx/index.js';
import type { FastifyInstance } from 'fastify';
import { UnprocessableError } from '../plugins/errors.js';
import type { DetectorSpec } from '../schemas/index.js';
import { readSource, resolveSource } from '../sources.js';
import type { JobContext } from './runner.js';

export interface TrainingResult {
  entities: Array<{ entity: string; version: number; rows: number; criterion: string; stage: string }>;
  skipped: Array<{ entity: string; reason: string }>;
}

/** Rows a model needs at least: the pipeline splits 70/15/15 and each tree samples up to 256. */
const MIN_ROWS = 100;

/**
 * A training job: reads the detector's training window from InfluxDB, trains one model per entity
 * (host) with the pipeline (time-ordered split, grid search, test metrics), and stores each as a
 * candidate version (or promotes it, when asked). Cancellable between entities.
 */
export async function trainDetector(
  app: FastifyInstance,
  detectorId: string,
  options: { to?: number; promote?: boolean; actor: string },
  ctx: JobContext,
): Promise<TrainingResult> {
  const detector = await app.registry.getDetector(detectorId);
  if (!detector) throw new Error(`detector '${detectorId}' was deleted`);
  const spec = detector.spec as DetectorSpec;
  const source = resolveSource(spec);
  const to = options.to ?? app.now();
  const from = to - spec.trainingWindowHours * 3_600_000;
  await ctx.progress('reading', 0);
  const series: EntitySeries[] = await readSource(app, spec, source, from, to);
  if (series.length === 0) {
    throw new UnprocessableError(
      `measurement '${source.measurement}' has no data between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
    );
  }
  const fields = source.fields.map((f) => f.field);
  const result: TrainingResult = { entities: [], skipped: [] };
  for (const [i, s] of series.entries()) {
    ctx.checkpoint();
    await ctx.progress(`training ${s.entity || 'model'} (${i + 1}/${series.length})`, i / series.length);
    const rows = s.timeMs.length;
    if (rows < MIN_ROWS) {
      result.skipped.push({
        entity: s.entity,
        reason: `${rows} rows in the window, at least ${MIN_ROWS} are needed`,
      });
      continue;
    }
    const data = new Float64Array(rows * fields.length);
    for (let r = 0; r < rows; r++)
      for (let f = 0; f < fields.length; f++) data[r * fields.length + f] = s.values[f]![r]!;
    let bundle: ModelBundle = trainPipeline(
      { raw: { rows, cols: fields.length, data }, timeMs: s.timeMs },
      {
        features: { fields, ...spec.features },
        seed: spec.model.seed ?? 0,
        grid: {
          ...(spec.model.trees ? { trees: [spec.model.trees] } : {}),
          ...(spec.model.maxSamples ? { maxSamples: [spec.model.maxSamples] } : {}),
          ...(spec.model.contamination ? { contamination: [spec.model.contamination] } : {}),
        },
      },
    );
    if ((spec.model.thresholdPolicy ?? 'alert-budget') === 'alert-budget')
      bundle = withAlertBudget(bundle, { rows, cols: fields.length, data }, s.timeMs, spec);
    const version = await app.registry.addModelVersion(
      {
        detectorId,
        entity: s.entity,
        bundle: JSON.stringify(bundle),
        metrics: bundle.test,
        params: {
          ...bundle.params,
          threshold: bundle.threshold,
          chosen: bundle.chosen,
          criterion: bundle.criterion,
          from,
          to,
          rows,
        },
      },
      options.actor,
      app.now(),
    );
    let stage: string = version.stage;
    if (options.promote) {
      stage = (
        await app.registry.setStage(
          detectorId,
          version.version,
          'production',
          options.actor,
          'promoted by the training request',
          app.now(),
        )
      ).stage;
    }
    result.entities.push({
      entity: s.entity,
      version: version.version,
      rows,
      criterion: bundle.criterion,
      stage,
    });
    // Give requests a turn between entities: training is CPU work on this thread.
    await new Promise((r) => setImmediate(r));
  }
  await ctx.progress('stored', 1);
  return result;
}

/**
 * Replaces the bundle's threshold by the alert budget: the lowest threshold at which the detector's
 * alert rule, made one point more sensitive, raises no alert on the data it was trained on. A
 * quantile budgets anomalous points, but metrics are autocorrelated; this budgets pages. The
 * extra point of sensitivity is the margin for the weeks to come being a little wilder than the
 * week it learned from.
 */
function withAlertBudget(
  bundle: ModelBundle,
  raw: { rows: number; cols: number; data: Float64Array },
  timeMs: Float64Array,
  spec: DetectorSpec,
): ModelBundle {
  const forest = IsolationForest.deserialize(Uint8Array.from(atob(bundle.model), (c) => c.charCodeAt(0)));
  const batch = transformBatch(bundle.features, raw, timeMs);
  const fitEnd = bundle.split.validation[1];
  let rows = 0;
  while (rows < batch.sourceRow.length && batch.sourceRow[rows]! < fitEnd) rows++;
  const scores = forest.scoreBatch({
    rows,
    cols: batch.matrix.cols,
    data: batch.matrix.data.subarray(0, rows * batch.matrix.cols),
  });
  const rule = { window: spec.alerting.window, minAnomalous: Math.max(1, spec.alerting.minAnomalous - 1) };
  const tuned = forest.withThreshold(thresholdForAlertBudget(scores, rule, 0));
  let s = '';
  const bytes = tuned.serialize();
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { ...bundle, threshold: tuned.threshold, model: btoa(s) };
}

import {
  IsolationForest,
  thresholdForAlertBudget,
  trainPipeline,
  transformBatch,
  type ModelBundle,
} from '../../engine/index.js';
import { seriesMatrix, type EntitySeries } from '../../io/influx/index.js';
import type { FastifyInstance } from 'fastify';
import { UnprocessableError } from '../plugins/errors.js';
import type { DetectorSpec } from '../schemas/index.js';
import { readResults } from '../results.js';
import { readSource, resolveSource } from '../sources.js';
import { productionModels, SHARED_ENTITY } from './scoring.js';
import type { JobContext } from './runner.js';

export interface TrainingResult {
  entities: Array<{ entity: string; version: number; rows: number; criterion: string; stage: string }>;
  skipped: Array<{ entity: string; reason: string }>;
}

/** Rows a model needs at least: the pipeline splits 70/15/15 and each tree samples up to 256. */
const MIN_ROWS = 100;

/** What one model learns from: one entity's series, or for a shared model every entity's. */
interface TrainingSet {
  /** The entity the version is stored for: SHARED_ENTITY for a shared model. */
  entity: string;
  raw: { rows: number; cols: number; data: Float64Array };
  timeMs: Float64Array;
  /** Shared model: each row's entity (its index in the series read), rows interleaved in time. */
  series?: Int32Array;
}

/**
 * One set per entity; or, for a shared model, one set of every entity's rows merged in time order
 * (ties in entity order, so the same data always gives the same rows), each row tagged with its
 * entity so that its features look back only within it.
 */
function trainingSets(series: EntitySeries[], shared: boolean): TrainingSet[] {
  if (!shared) return series.map((s) => ({ entity: s.entity, raw: seriesMatrix(s), timeMs: s.timeMs }));
  const order = series
    .flatMap((s, k) => Array.from(s.timeMs, (t, i) => ({ t, k, i })))
    .sort((a, b) => a.t - b.t || a.k - b.k);
  const cols = series[0]?.values.length ?? 0;
  const data = new Float64Array(order.length * cols);
  order.forEach(({ k, i }, r) => {
    for (let c = 0; c < cols; c++) data[r * cols + c] = series[k]!.values[c]![i]!;
  });
  return [
    {
      entity: SHARED_ENTITY,
      raw: { rows: order.length, cols, data },
      timeMs: Float64Array.from(order, (o) => o.t),
      series: Int32Array.from(order, (o) => o.k),
    },
  ];
}

/**
 * A training job: reads the detector's training window from InfluxDB, trains one model per entity
 * (host) with the pipeline (time-ordered split, grid search, test metrics), and stores each as a
 * candidate version (or promotes it, when asked). Cancellable between entities.
 */
export async function trainDetector(
  app: FastifyInstance,
  detectorId: string,
  options: {
    to?: number;
    promote?: boolean;
    actor: string;
    /** A retrain: what to do with each candidate (see DetectorSpec.schedule.promotion). */
    policy?: 'manual' | 'auto-if-better' | 'always';
    /** Leave out rows the production models flagged, so an incident is not learnt as normal. */
    excludeAnomalies?: boolean;
    /** Why this training runs (recorded with each decision). */
    trigger?: string;
  },
  ctx: JobContext,
): Promise<TrainingResult> {
  const detector = await app.registry.getDetector(detectorId);
  if (!detector) throw new Error(`detector '${detectorId}' was deleted`);
  const spec = detector.spec as DetectorSpec;
  const source = resolveSource(spec);
  const to = options.to ?? app.now();
  const from = to - spec.trainingWindowHours * 3_600_000;
  await ctx.progress('reading', 0);
  let series: EntitySeries[] = await readSource(app, spec, source, from, to);
  if (options.excludeAnomalies) series = await withoutAnomalies(app, detectorId, series, from, to);
  if (series.length === 0) {
    throw new UnprocessableError(
      `measurement '${source.measurement}' has no data between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
    );
  }
  const fields = source.fields.map((f) => f.field);
  const result: TrainingResult = { entities: [], skipped: [] };
  const sets = trainingSets(series, spec.model.shared ?? false);
  for (const [i, set] of sets.entries()) {
    ctx.checkpoint();
    const name = set.series ? `the shared model (${series.length} entities)` : set.entity || 'model';
    await ctx.progress(`training ${name} (${i + 1}/${sets.length})`, i / sets.length);
    const rows = set.timeMs.length;
    if (rows < MIN_ROWS) {
      result.skipped.push({
        entity: set.entity,
        reason: `${rows} rows in the window, at least ${MIN_ROWS} are needed`,
      });
      continue;
    }
    let bundle: ModelBundle = trainPipeline(
      { raw: set.raw, timeMs: set.timeMs, ...(set.series ? { series: set.series } : {}) },
      {
        features: { fields, ...spec.features },
        seed: spec.model.seed ?? 0,
        ...(spec.model.outOfRange ? { outOfRange: spec.model.outOfRange } : {}),
        grid: {
          ...(spec.model.trees ? { trees: [spec.model.trees] } : {}),
          ...(spec.model.maxSamples ? { maxSamples: [spec.model.maxSamples] } : {}),
          ...(spec.model.contamination ? { contamination: [spec.model.contamination] } : {}),
        },
      },
    );
    const threshold = spec.model.threshold ?? spec.model.thresholdPolicy ?? 'alert-budget';
    if (threshold !== 'contamination') bundle = withThreshold(bundle, set, spec, threshold);
    const version = await app.registry.addModelVersion(
      {
        detectorId,
        entity: set.entity,
        bundle: JSON.stringify(bundle),
        metrics: bundle.test,
        params: {
          ...bundle.params,
          threshold: bundle.threshold,
          thresholdBy: typeof threshold === 'number' ? 'fixed' : threshold,
          chosen: bundle.chosen,
          criterion: bundle.criterion,
          from,
          to,
          rows,
          ...(set.series ? { entities: series.map((e) => e.entity) } : {}),
        },
      },
      options.actor,
      app.now(),
    );
    let stage: string = version.stage;
    if (options.policy) {
      stage = await decide(
        app,
        detectorId,
        version.version,
        bundle,
        set,
        options.policy,
        options.actor,
        options.trigger ?? 'retrain',
      );
    } else if (options.promote) {
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
      entity: set.entity,
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
 * Replaces the bundle's threshold by a fixed score, or by the alert budget: the lowest threshold
 * at which the detector's alert rule, made one point more sensitive, raises no alert on the data
 * it was trained on. A quantile budgets anomalous points, but metrics are autocorrelated; this
 * budgets pages. The extra point of sensitivity is the margin for the weeks to come being a little
 * wilder than the week it learned from. The test split's flagged share is counted again with the
 * new threshold, so the version's metrics describe the model as it will score.
 */
function withThreshold(
  bundle: ModelBundle,
  set: TrainingSet,
  spec: DetectorSpec,
  threshold: number | 'alert-budget',
): ModelBundle {
  const forest = IsolationForest.deserialize(Uint8Array.from(atob(bundle.model), (c) => c.charCodeAt(0)));
  const batch = transformBatch(bundle.features, set.raw, set.timeMs, set.series);
  const scores = forest.scoreBatch(batch.matrix);
  // Rows before the test split are what the final model was fitted on.
  const testStart = bundle.split.validation[1];
  let fitted = 0;
  while (fitted < batch.sourceRow.length && batch.sourceRow[fitted]! < testStart) fitted++;
  const tuned = forest.withThreshold(
    threshold === 'alert-budget'
      ? alertBudget(scores.subarray(0, fitted), batch.sourceRow, set, spec)
      : threshold,
  );
  const testScores = scores.subarray(fitted);
  let flagged = 0;
  for (const score of testScores) if (tuned.isAnomaly(score)) flagged++;
  let s = '';
  const bytes = tuned.serialize();
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return {
    ...bundle,
    threshold: tuned.threshold,
    model: btoa(s),
    test: { ...bundle.test, flaggedShare: flagged / Math.max(1, testScores.length) },
  };
}

/**
 * The alert budget's threshold for the fitted rows' scores. The alert rule looks at one entity's
 * consecutive points, so with a shared model each entity's scores are taken apart, in time order,
 * and the threshold is the highest of theirs: the lowest at which no entity would have paged.
 */
function alertBudget(
  scores: Float64Array,
  sourceRow: Int32Array,
  set: TrainingSet,
  spec: DetectorSpec,
): number {
  const rule = { window: spec.alerting.window, minAnomalous: Math.max(1, spec.alerting.minAnomalous - 1) };
  if (!set.series) return thresholdForAlertBudget(scores, rule, 0);
  const byEntity = new Map<number, number[]>();
  scores.forEach((score, i) => {
    const id = set.series![sourceRow[i]!]!;
    const own = byEntity.get(id);
    if (own) own.push(score);
    else byEntity.set(id, [score]);
  });
  return Math.max(...[...byEntity.values()].map((own) => thresholdForAlertBudget(own, rule, 0)));
}

/** The series with the rows the detector flagged as anomalous removed. */
async function withoutAnomalies(
  app: FastifyInstance,
  detectorId: string,
  series: EntitySeries[],
  from: number,
  to: number,
): Promise<EntitySeries[]> {
  const flagged = new Set(
    (await readResults(app, detectorId, from, to, { anomaliesOnly: true, withExplanations: false })).map(
      (r) => `${r.entity}|${r.timeMs}`,
    ),
  );
  if (flagged.size === 0) return series;
  return series.map((s) => {
    const keep: number[] = [];
    for (let i = 0; i < s.timeMs.length; i++) if (!flagged.has(`${s.entity}|${s.timeMs[i]}`)) keep.push(i);
    return {
      entity: s.entity,
      timeMs: Float64Array.from(keep, (i) => s.timeMs[i]!),
      values: s.values.map((v) => Float64Array.from(keep, (i) => v[i]!)),
    };
  });
}

/** Share of the holdout rows a forest flags, its features computed over the whole window (causal). */
function flaggedShare(
  model: { bundle: ModelBundle; forest: IsolationForest },
  set: TrainingSet,
  holdoutStart: number,
): number {
  const batch = transformBatch(model.bundle.features, set.raw, set.timeMs, set.series);
  let flagged = 0;
  let total = 0;
  for (let i = 0; i < batch.sourceRow.length; i++) {
    if (batch.sourceRow[i]! < holdoutStart) continue;
    total++;
    if (
      model.forest.isAnomaly(
        model.forest.scoreOne(batch.matrix.data.subarray(i * batch.matrix.cols, (i + 1) * batch.matrix.cols)),
      )
    )
      flagged++;
  }
  return total > 0 ? flagged / total : 0;
}

/**
 * A retrain's decision for one candidate, recorded with its numbers in the stage history. The
 * comparison is on the same recent holdout (the window's last 15 %, which neither model trained
 * on... the candidate's test part): the data is mostly normal, so the model that flags less of it
 * is the steadier one. No production model yet: the candidate is the model.
 */
async function decide(
  app: FastifyInstance,
  detectorId: string,
  version: number,
  bundle: ModelBundle,
  set: TrainingSet,
  policy: 'manual' | 'auto-if-better' | 'always',
  actor: string,
  trigger: string,
): Promise<string> {
  const production = (await productionModels(app, detectorId)).get(set.entity);
  const candidate = {
    bundle,
    forest: IsolationForest.deserialize(Uint8Array.from(atob(bundle.model), (c) => c.charCodeAt(0))),
  };
  const holdoutStart = bundle.split.test[0];
  const mine = flaggedShare(candidate, set, holdoutStart);
  const theirs = production ? flaggedShare(production, set, holdoutStart) : undefined;
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  const numbers =
    theirs === undefined
      ? `candidate flags ${pct(mine)} of the recent holdout; no production model`
      : `candidate flags ${pct(mine)} of the recent holdout, production v${production!.version.version} ${pct(theirs)}`;
  let to: 'production' | 'staging';
  if (policy === 'always' || (theirs === undefined && policy !== 'manual')) to = 'production';
  else if (policy === 'manual') to = 'staging';
  else to = mine <= theirs! ? 'production' : 'staging';
  const why = `${trigger}, ${policy}: ${numbers}${to === 'staging' ? (policy === 'manual' ? ' (shadow scoring until an admin promotes)' : ' (not better: shadow scoring)') : ''}`;
  await app.registry.setStage(detectorId, version, to, actor, why, app.now());
  return to;
}

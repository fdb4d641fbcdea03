import type { FastifyInstance } from 'fastify';
import {
  explain,
  IsolationForest,
  topFeatures,
  transformBatch,
  type ModelBundle,
} from '../../engine/index.js';
import { RESULTS_MEASUREMENT, seriesMatrix, toLine } from '../../io/influx/index.js';
import type { ModelVersionRecord } from '../../io/registry/index.js';
import type { DetectorSpec } from '../schemas/index.js';
import { readSource, resolveSource, resultsWriter } from '../sources.js';

/** How far above its threshold a score is, named as operators page on it. */
export function severity(score: number, threshold: number): 'none' | 'low' | 'medium' | 'high' | 'critical' {
  const margin = score - threshold;
  if (margin <= 0) return 'none';
  if (margin < 0.03) return 'low';
  if (margin < 0.06) return 'medium';
  if (margin < 0.1) return 'high';
  return 'critical';
}

export interface LoadedModel {
  version: ModelVersionRecord;
  bundle: ModelBundle;
  forest: IsolationForest;
}

const cache = new Map<string, LoadedModel>();

/** A version's forest, deserialized once and kept (versions never change once stored). */
export async function loadModel(
  app: FastifyInstance,
  detectorId: string,
  version: number,
): Promise<LoadedModel> {
  const key = `${app.config.dataDir}|${detectorId}|${version}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const record = await app.registry.getModelVersion(detectorId, version);
  if (!record?.bundle) throw new Error(`detector '${detectorId}' has no version ${version}`);
  const bundle = JSON.parse(record.bundle) as ModelBundle;
  const forest = IsolationForest.deserialize(Uint8Array.from(atob(bundle.model), (c) => c.charCodeAt(0)));
  const loaded = { version: record, bundle, forest };
  cache.set(key, loaded);
  return loaded;
}

/** The entity a shared model is stored for: the detector as a whole. */
export const SHARED_ENTITY = '';

/**
 * A detector's models in one stage, by the entity they score: each entity's own, or, when the
 * detector shares one model among its entities (spec.model.shared), that model for every entity.
 * Models of the other kind (left from before the spec changed) are not used.
 */
export class StageModels {
  /** `byEntity` holds only the models of the detector's kind: with a shared model, that one. */
  constructor(
    private readonly byEntity: Map<string, LoadedModel>,
    private readonly shared: boolean,
  ) {}

  get(entity: string): LoadedModel | undefined {
    return this.byEntity.get(this.shared ? SHARED_ENTITY : entity);
  }

  /** How many models there are to score with. */
  get size(): number {
    return this.byEntity.size;
  }

  /**
   * [entity, model] for the entities asked for (all that have a model when none are named); a
   * shared model answers for each entity named, or once, for the detector, when none are.
   */
  entries(wanted?: string[]): Array<[string, LoadedModel]> {
    if (this.shared) {
      const model = this.byEntity.get(SHARED_ENTITY);
      return model ? (wanted ?? [SHARED_ENTITY]).map((entity) => [entity, model]) : [];
    }
    return [...this.byEntity.entries()].filter(([entity]) => !wanted || wanted.includes(entity));
  }

  values(): LoadedModel[] {
    return [...this.byEntity.values()];
  }
}

/** The models of a detector in a stage (production by default), by the entity they score. */
export async function productionModels(
  app: FastifyInstance,
  detectorId: string,
  stage: 'production' | 'staging' = 'production',
): Promise<StageModels> {
  const detector = await app.registry.getDetector(detectorId);
  const shared = (detector?.spec as DetectorSpec | undefined)?.model.shared ?? false;
  const out = new Map<string, LoadedModel>();
  // Newest first: with several staging versions of an entity, the newest is the shadow.
  for (const v of await app.registry.listModelVersions(detectorId)) {
    if (v.stage === stage && !out.has(v.entity) && (!shared || v.entity === SHARED_ENTITY))
      out.set(v.entity, await loadModel(app, detectorId, v.version));
  }
  return new StageModels(out, shared);
}

export interface ScoredRow {
  entity: string;
  timeMs: number;
  score: number;
  anomaly: boolean;
  severity: ReturnType<typeof severity>;
  topFeature?: string;
  topContribution?: number;
  /** For anomalous rows: the three strongest contributions with their shares (alerts show them). */
  top?: Array<{ feature: string; share: number }>;
  modelVersion: number;
  /** Production scores page people; staging ones are shadow scores, for comparison only. */
  stage: 'production' | 'staging';
}

/**
 * Scores a detector's data in [from, to) with each entity's production model, and with its staging
 * model as a shadow: reads the window plus the look-back the features need, computes the features
 * causally, scores, and explains the anomalous rows. Pure of side effects; `scoreAndWrite` writes
 * the results back.
 */
export async function scoreRange(
  app: FastifyInstance,
  detectorId: string,
  from: number,
  to: number,
): Promise<ScoredRow[]> {
  const detector = await app.registry.getDetector(detectorId);
  if (!detector) return [];
  const spec = detector.spec as DetectorSpec;
  const source = resolveSource(spec);
  const production = await productionModels(app, detectorId);
  const staging = await productionModels(app, detectorId, 'staging');
  if (production.size === 0 && staging.size === 0) return [];
  const all = [...production.values(), ...staging.values()];
  const lookback =
    Math.max(...all.map((m) => Math.max(m.bundle.features.rollingWindow, m.bundle.features.shingle, 1))) + 1;
  const series = await readSource(app, spec, source, from - lookback * spec.intervalSeconds * 1000, to);
  const rows: ScoredRow[] = [];
  const jobs = series.flatMap((s) =>
    (
      [
        ['production', production.get(s.entity)],
        ['staging', staging.get(s.entity)],
      ] as const
    ).flatMap(([stage, model]) => (model ? [{ s, stage, model }] : [])),
  );
  for (const { s, stage, model } of jobs) {
    const raw = seriesMatrix(s);
    const batch = transformBatch(model.bundle.features, raw, s.timeMs);
    if (batch.matrix.rows === 0) continue;
    const scores = model.forest.scoreBatch(batch.matrix);
    for (let i = 0; i < batch.matrix.rows; i++) {
      const t = s.timeMs[batch.sourceRow[i]!]!;
      if (t < from || t >= to) continue;
      const score = scores[i]!;
      const anomaly = model.forest.isAnomaly(score);
      const row: ScoredRow = {
        entity: s.entity,
        timeMs: t,
        score,
        anomaly,
        severity: severity(score, model.forest.threshold),
        modelVersion: model.version.version,
        stage,
      };
      if (anomaly) {
        const c = explain(
          model.forest,
          batch.matrix.data.subarray(i * batch.matrix.cols, (i + 1) * batch.matrix.cols),
        ).contributions;
        const top = topFeatures(c, batch.names, 3);
        row.topFeature = top[0]!.feature;
        row.topContribution = top[0]!.contribution;
        row.top = top.map((t) => ({ feature: t.feature, share: t.share }));
      }
      rows.push(row);
    }
  }
  return rows;
}

/** Scores [from, to) and writes the results to `isoscope_anomaly` (tags detector, entity, model_version). */
export async function scoreAndWrite(
  app: FastifyInstance,
  detectorId: string,
  from: number,
  to: number,
): Promise<{ rows: number; anomalies: number; scored: ScoredRow[] }> {
  const rows = await scoreRange(app, detectorId, from, to);
  const lines = rows.map((r) =>
    toLine({
      measurement: RESULTS_MEASUREMENT,
      tags: { detector: detectorId, entity: r.entity, model_version: String(r.modelVersion), stage: r.stage },
      fields: {
        score: r.score,
        anomaly: r.anomaly,
        severity: r.severity,
        ...(r.topFeature !== undefined
          ? { top_feature: r.topFeature, top_contribution: r.topContribution! }
          : {}),
      },
      timeMs: r.timeMs,
    }),
  );
  const detector = await app.registry.getDetector(detectorId);
  const writer = detector ? resultsWriter(app, detector.spec as DetectorSpec) : app.results;
  writer.add(lines);
  await writer.flush();
  app.telemetry.scoringRows.inc(
    { detector: detectorId },
    rows.filter((r) => r.stage === 'production').length,
  );
  const live = rows.filter((r) => r.stage === 'production');
  return { rows: live.length, anomalies: live.filter((r) => r.anomaly).length, scored: live };
}

import type { FastifyInstance } from 'fastify';
import { driftReport, featureDrift, transformBatch, type FeatureDrift } from '../engine/index.js';
import { RegistryError } from '../io/registry/index.js';
import { productionModels } from './jobs/scoring.js';
import { UnprocessableError } from './plugins/errors.js';
import type { DetectorSpec, DriftReport } from './schemas/index.js';
import { readSource, resolveSource } from './sources.js';
import { seriesMatrix } from '../io/influx/index.js';

/**
 * The five drift tests and the consensus for each entity of a detector: its features over the last
 * `hours` against its production model's training sample. Each report is stored and counted.
 */
export async function runDrift(
  app: FastifyInstance,
  detectorId: string,
  hours: number,
): Promise<DriftReport[]> {
  const detector = await app.registry.getDetector(detectorId);
  if (!detector) throw new RegistryError('NOT_FOUND', `no detector '${detectorId}'`);
  const spec = detector.spec as DetectorSpec;
  const to = app.now();
  const from = to - hours * 3_600_000;
  const models = await productionModels(app, detectorId);
  if (models.size === 0)
    throw new RegistryError('CONFLICT', `detector '${detectorId}' has no production model to compare with`);
  const source = resolveSource(spec);
  const series = await readSource(app, spec, source, from, to);
  if (series.length === 0) {
    throw new UnprocessableError(
      `measurement '${source.measurement}' has no data between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
    );
  }
  const reports: DriftReport[] = [];
  for (const s of series) {
    const model = models.get(s.entity);
    if (!model) continue;
    const raw = seriesMatrix(s);
    const current = transformBatch(model.bundle.features, raw, s.timeMs).matrix;
    if (current.rows < 2) continue;
    const names = model.bundle.featureNames;
    const sampleRows = Math.min(...model.bundle.reference.map((r) => r.sample.length));
    const refData = new Float64Array(sampleRows * names.length);
    for (let r = 0; r < sampleRows; r++)
      for (let c = 0; c < names.length; c++)
        refData[r * names.length + c] = model.bundle.reference[c]!.sample[r]!;
    const report = driftReport(names, { rows: sampleRows, cols: names.length, data: refData }, current);
    // Score drift: the same five tests on the model's own output, recent rows against training rows.
    const scoreDrift = featureDrift(
      'score',
      model.forest.scoreBatch({ rows: sampleRows, cols: names.length, data: refData }),
      model.forest.scoreBatch(current),
    );
    const stored: DriftReport = {
      detector: detectorId,
      entity: s.entity,
      modelVersion: model.version.version,
      at: new Date(to).toISOString(),
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      drifted: report.drifted,
      driftedFeatures: report.driftedFeatures,
      ranking: report.ranking,
      features: report.features.map(toJson),
      scoreDrift: toJson(scoreDrift),
    };
    app.telemetry.driftChecks.inc({ detector: detectorId });
    if (report.drifted) app.telemetry.driftConsensus.inc({ detector: detectorId });
    await app.registry.addDriftReport(
      detectorId,
      model.version.version,
      s.entity,
      to,
      JSON.stringify(stored),
    );
    reports.push(stored);
  }
  return reports;
}

function toJson(f: FeatureDrift): DriftReport['features'][number] {
  return {
    feature: f.feature,
    votes: f.votes,
    drifted: f.drifted,
    ks: f.ks,
    psi: f.psi,
    jensenShannon: f.jensenShannon,
    wasserstein: f.wasserstein,
    // JSON has no infinity: a reference without spread that moved at all is "very far".
    wassersteinScaled: Number.isFinite(f.wassersteinScaled) ? f.wassersteinScaled : 1e308,
    ...(f.andersonDarling ? { andersonDarling: f.andersonDarling } : {}),
    verdicts: f.verdicts,
  };
}

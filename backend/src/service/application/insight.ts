/**
 * What the service says about a detector besides its scores: why a moment scored as it did (the
 * drill-down), whether its fields drifted from what its checkpoint was bootstrapped on, and that
 * checkpoint's field distributions (validation, Grafana's expected band). Dependencies passed in.
 */
import { driftReport, explain, IsolationForest, topFeatures, type FeatureDrift } from '../../engine/index.js';
import type { EntitySeries, SourceSpec } from '../../io/influx/index.js';
import { RegistryError, type Registry } from '../../io/registry/index.js';
import { readSpec, type DetectorSpec } from '../domain/spec.js';
import { UnprocessableError } from '../plugins/errors.js';
import type { DriftReport } from '../schemas/index.js';
import { resolveSource } from '../sources.js';
import { percentileOf, readCheckpoint, type FieldReference } from './checkpoints.js';
import type { ResultsReader, StoredResult } from './results.js';

export interface InsightDeps {
  registry: Registry;
  readSource(spec: DetectorSpec, source: SourceSpec, from: number, to: number): Promise<EntitySeries[]>;
  results: ResultsReader;
  now(): number;
  /** Told of each drift check and whether the consensus found drift (metrics). */
  onDriftCheck?(detectorId: string, drifted: boolean): void;
}

export interface Explanation {
  detector: string;
  entity: string;
  time: string;
  modelVersion: number;
  stage: string;
  score: number;
  threshold: number;
  anomaly: boolean;
  severity: string;
  topFeature?: string;
  baseline: number;
  pathLength: number;
  contributions: Array<{
    feature: string;
    contribution: number;
    share: number;
    value: number;
    percentile: number;
    trainingP5: number;
    trainingMedian: number;
    trainingP95: number;
  }>;
  series: { fields: string[]; time: number[]; values: Array<Array<number | null>> };
}

/** A reference's samples as rows (as many as the shortest field has). */
function referenceMatrix(reference: FieldReference[]): { rows: number; cols: number; data: Float64Array } {
  const rows = Math.min(...reference.map((r) => r.sample.length));
  const cols = reference.length;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = reference[c]!.sample[r]!;
  return { rows, cols, data };
}

export class Insight {
  constructor(private readonly deps: InsightDeps) {}

  private async spec(id: string): Promise<DetectorSpec> {
    const d = await this.deps.registry.getDetector(id);
    if (!d) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
    return readSpec(id, d.spec);
  }

  /**
   * Each entity's version in a stage (production by default) and the field distributions of the
   * rows its checkpoint was bootstrapped on.
   */
  async references(
    detectorId: string,
    stage: 'production' | 'staging' = 'production',
  ): Promise<Map<string, { version: number; reference: FieldReference[] }>> {
    const out = new Map<string, { version: number; reference: FieldReference[] }>();
    for (const v of await this.deps.registry.listModelVersions(detectorId)) {
      if (v.stage !== stage || out.has(v.entity)) continue;
      const record = await this.deps.registry.getModelVersion(detectorId, v.version);
      out.set(v.entity, { version: v.version, reference: readCheckpoint(record!).reference });
    }
    return out;
  }

  /**
   * Why one moment scored as it did. The score, threshold, decision, severity and top feature are
   * the stored result's, as the runtime decided them. The breakdown beside them is TreeSHAP on a
   * forest grown (with the detector's seed) on the sample of raw fields the result's checkpoint was
   * bootstrapped on: it says which fields sit outside what that checkpoint learnt as normal, and
   * its contributions add up to baseline − path length of that forest.
   */
  async explain(detectorId: string, entity: string, time: number): Promise<Explanation> {
    const spec = await this.spec(detectorId);
    const step = spec.intervalSeconds * 1000;
    const stored = (
      await this.deps.results.read(detectorId, time - 60 * step, time + 1, { entity, stage: 'production' })
    ).at(-1);
    if (!stored)
      throw new UnprocessableError(
        `detector '${detectorId}' has no result for '${entity}' at or before ${new Date(time).toISOString()}: it is scored once trained, or backfill the range`,
      );
    const record = (await this.deps.registry.getModelVersion(detectorId, stored.modelVersion)) ?? undefined;
    if (!record)
      throw new RegistryError(
        'NOT_FOUND',
        `detector '${detectorId}' has no version ${stored.modelVersion} any more`,
      );
    const reference = readCheckpoint(record).reference;
    const source = resolveSource(spec);
    const fields = source.fields.map((f) => f.field);
    const around = 60 * step;
    const [series] = await this.deps.readSource(
      spec,
      {
        ...source,
        tags: { ...source.tags, ...(source.entityTag && entity ? { [source.entityTag]: entity } : {}) },
      },
      stored.timeMs - around,
      stored.timeMs + around,
    );
    const row = series ? series.timeMs.indexOf(stored.timeMs) : -1;
    if (!series || row < 0)
      throw new UnprocessableError(
        `measurement '${source.measurement}' has no data for '${entity}' at ${new Date(stored.timeMs).toISOString()}`,
      );
    // A missing value is taken as its training median: the forest needs every column.
    const x = Float64Array.from(fields, (_, c) => {
      const v = series.values[c]![row]!;
      return Number.isNaN(v) ? reference[c]!.quantiles[50]! : v;
    });
    const forest = IsolationForest.fit(referenceMatrix(reference), {
      ...(spec.model.trees !== undefined ? { trees: spec.model.trees } : {}),
      seed: spec.model.seed ?? 0,
      outOfRange: spec.model.outOfRange ?? 'isolate',
    });
    const e = explain(forest, x);
    return {
      detector: detectorId,
      entity,
      time: new Date(stored.timeMs).toISOString(),
      modelVersion: stored.modelVersion,
      stage: stored.stage,
      score: stored.score,
      threshold: stored.threshold ?? 0,
      anomaly: stored.anomaly,
      severity: stored.severity,
      ...(stored.topFeature !== undefined ? { topFeature: stored.topFeature } : {}),
      baseline: e.baseline,
      pathLength: e.pathLength,
      contributions: topFeatures(e.contributions, fields, fields.length).map((c) => {
        const ref = reference[c.index]!;
        return {
          feature: c.feature,
          contribution: c.contribution,
          share: c.share,
          value: x[c.index]!,
          percentile: percentileOf(ref, x[c.index]!),
          trainingP5: ref.quantiles[5]!,
          trainingMedian: ref.quantiles[50]!,
          trainingP95: ref.quantiles[95]!,
        };
      }),
      series: {
        fields,
        time: Array.from(series.timeMs),
        values: series.values.map((v) => Array.from(v, (y) => (Number.isNaN(y) ? null : y))),
      },
    };
  }

  /**
   * The five drift tests and their consensus per entity: the raw fields over the last `hours`
   * against the sample its production checkpoint was bootstrapped on. Each report is stored.
   * (The runtimes also test drift on their own features and retrain on it; this is the
   * operator's view of the fields.)
   */
  async drift(detectorId: string, hours: number): Promise<DriftReport[]> {
    const spec = await this.spec(detectorId);
    const refs = await this.references(detectorId);
    if (refs.size === 0)
      throw new RegistryError(
        'CONFLICT',
        `detector '${detectorId}' has no production version to compare with`,
      );
    const to = this.deps.now();
    const from = to - hours * 3_600_000;
    const source = resolveSource(spec);
    const fields = source.fields.map((f) => f.field);
    const series = await this.deps.readSource(spec, source, from, to);
    if (series.length === 0)
      throw new UnprocessableError(
        `measurement '${source.measurement}' has no data between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
      );
    const reports: DriftReport[] = [];
    for (const s of series.sort((a, b) => a.entity.localeCompare(b.entity))) {
      const ref = refs.get(s.entity);
      if (!ref) continue;
      const complete: number[] = [];
      for (let i = 0; i < s.timeMs.length; i++)
        if (s.values.every((v) => !Number.isNaN(v[i]!))) complete.push(i);
      if (complete.length < 2) continue;
      const current = new Float64Array(complete.length * fields.length);
      complete.forEach((i, r) =>
        fields.forEach((_, c) => (current[r * fields.length + c] = s.values[c]![i]!)),
      );
      const report = driftReport(fields, referenceMatrix(ref.reference), {
        rows: complete.length,
        cols: fields.length,
        data: current,
      });
      const stored: DriftReport = {
        detector: detectorId,
        entity: s.entity,
        modelVersion: ref.version,
        at: new Date(to).toISOString(),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        drifted: report.drifted,
        driftedFeatures: report.driftedFeatures,
        ranking: report.ranking,
        features: report.features.map(driftJson),
      };
      this.deps.onDriftCheck?.(detectorId, report.drifted);
      await this.deps.registry.addDriftReport(detectorId, ref.version, s.entity, to, JSON.stringify(stored));
      reports.push(stored);
    }
    return reports;
  }
}

export function driftJson(f: FeatureDrift): DriftReport['features'][number] {
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

export type { StoredResult };

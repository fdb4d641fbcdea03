/**
 * What the service says about a detector besides its scores: why a moment scored as it did (the
 * drill-down), whether its fields drifted from what its checkpoint was bootstrapped on, and that
 * checkpoint's field distributions (validation, Grafana's expected band). Dependencies passed in.
 */
import { driftReport, topFeatures, type FeatureDrift } from '../../engine/index.js';
import type { EntitySeries, SourceSpec } from '../../io/influx/index.js';
import { RegistryError, type Registry } from '../../io/registry/index.js';
import { replayExplain, type ExplainRun, type ExplainTask } from '../../parallel/explain-run.js';
import { readSpec, streamOptions, type DetectorSpec } from '../domain/spec.js';
import { UnprocessableError } from '../plugins/errors.js';
import type { DriftReport } from '../schemas/index.js';
import { resolveSource } from '../sources.js';
import { readCheckpoint, type Checkpoint, type FieldReference } from './checkpoints.js';
import { readByDays } from './read-days.js';
import type { ResultsReader, StoredResult } from './results.js';

export interface InsightDeps {
  registry: Registry;
  readSource(spec: DetectorSpec, source: SourceSpec, from: number, to: number): Promise<EntitySeries[]>;
  results: ResultsReader;
  now(): number;
  /**
   * Where an explanation's replay runs (restoring a checkpoint and scoring up to days of rows): the
   * service passes its explainWorker's run, so it never holds the event loop; default, this thread.
   */
  replayExplain?(task: ExplainTask): Promise<ExplainRun>;
  /** Told of each drift check and whether the consensus found drift (metrics). */
  onDriftCheck?(detectorId: string, drifted: boolean): void;
}

/** One feature of the forest group that scored the row: its contribution and its value against what the group learnt. */
export interface ExplainedFeature {
  feature: string;
  /** The raw field it derives from (its value, a lag, its change, ...); 'time' for time of day or week. */
  field: string;
  contribution: number;
  share: number;
  value: number;
  /** Where the value sits among the window the group's forests are grown on, 0 … 1. */
  percentile: number;
  trainingP5: number;
  trainingMedian: number;
  trainingP95: number;
  /** The range the group's trees split this feature within (absent: no tree splits on it). */
  learntLow?: number;
  learntHigh?: number;
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
  /** Whether replaying the version's runtime up to this row gave the stored score (to 1e-9). */
  reproduced: boolean;
  /** Why the replay differs, or what it could not do; absent when it reproduced the result. */
  note?: string;
  replay: { from: string; rows: number; score?: number; topFeature?: string };
  forest?: {
    group: 'levels' | 'changes' | 'all';
    retrain: number;
    trees: number;
    groupScores: number[];
    explainedTime?: string;
  };
  baseline: number;
  pathLength: number;
  contributions: ExplainedFeature[];
  series: { fields: string[]; time: number[]; values: Array<Array<number | null>> };
}

/** A stored score and a replayed one agree when within this (the replay is bit-for-bit; a margin for JSON). */
const REPRODUCED = 1e-9;
/** The most an explanation replays, whatever the version's span: two weeks of rows. */
export const MAX_REPLAY_MS = 14 * 86_400_000;
const DAY = 86_400_000;

const days = (ms: number): string => `${Number((ms / DAY).toFixed(1))} days`;

/** The raw field a feature name derives from (`usage_user.lag3` → `usage_user`). */
function fieldOf(feature: string, fields: string[]): string {
  if (fields.includes(feature)) return feature;
  const m = /^(.+)\.(?:z\d+|lag\d+|delta|rate)$/.exec(feature);
  if (m && fields.includes(m[1]!)) return m[1]!;
  return feature.startsWith('time.') ? 'time' : feature;
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
   * Why one moment scored as it did, told by the runtime that scored it. The score, threshold,
   * decision, severity and top feature are the stored result's. The breakdown is the runtime's
   * own: the result's version's checkpoint (the snapshot the runtime started from) restored, the
   * entity's source rows from the checkpoint's end up to the moment replayed through the same
   * stream detector (live scoring and a replay of the same rows agree to the bit, so this is the
   * runtime's state when it scored the row), and the row explained by the forests that scored it:
   * the group that flagged it (or scored it highest), TreeSHAP per feature (adding up to baseline −
   * path length of that group), each value against the window the group learns from. `reproduced`
   * says whether the replay gave the stored score; when it did not, `note` says why it may differ.
   * Replays at most the version's span (and MAX_REPLAY_MS), on a worker in the service.
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
    let checkpoint: Checkpoint;
    try {
      checkpoint = readCheckpoint(record);
    } catch (err) {
      throw new UnprocessableError((err as Error).message);
    }
    const v = `version ${stored.modelVersion}`;
    const at = new Date(stored.timeMs).toISOString();
    const source = resolveSource(spec);
    const entitySource: SourceSpec = {
      ...source,
      tags: { ...source.tags, ...(source.entityTag && entity ? { [source.entityTag]: entity } : {}) },
    };
    const fields = source.fields.map((f) => f.field);
    // A result older than the checkpoint's end was written by a backfill that started a detector of
    // its own: the nearest the version can give is its bootstrap run over the same rows.
    const beforeCheckpoint = stored.timeMs < checkpoint.to;
    const from = beforeCheckpoint ? checkpoint.from : checkpoint.to;
    const limit = Math.min(checkpoint.to - checkpoint.from, MAX_REPLAY_MS);
    if (stored.timeMs - from > limit)
      throw new UnprocessableError(
        `explaining replays ${v}'s runtime from its checkpoint (${new Date(from).toISOString()}) to ${at}: ${days(stored.timeMs - from)} of rows, more than the limit of ${days(limit)} (the span the version was trained on, at most ${days(MAX_REPLAY_MS)}); retrain the detector to explain moments this recent`,
      );
    const rows = await this.readDays(spec, entitySource, from, stored.timeMs + 1);
    const run = await (this.deps.replayExplain ?? (async (task: ExplainTask) => replayExplain(task)))({
      start: beforeCheckpoint ? { options: streamOptions(spec, fields) } : { snapshot: checkpoint.snapshot },
      timeMs: rows?.timeMs ?? new Float64Array(0),
      values: rows?.values ?? fields.map(() => new Float64Array(0)),
      from,
      at: stored.timeMs,
    });
    if (!run.found)
      throw new UnprocessableError(
        `measurement '${source.measurement}' has no data for '${entity}' at ${at} any more: there is no row to replay and explain`,
      );
    const replayed = run.result!;
    const reproduced = Math.abs(replayed.score - stored.score) <= REPRODUCED;
    const e = run.explanation;
    const notes: string[] = [];
    if (!reproduced) {
      const scores = `the replay scored this row ${replayed.score.toPrecision(6)}, the stored result says ${stored.score.toPrecision(6)}`;
      if (beforeCheckpoint)
        notes.push(
          `This result is older than ${v}'s checkpoint (${new Date(checkpoint.to).toISOString()}): a backfill wrote it with a detector of its own. The breakdown is that of the version's bootstrap run over the same rows; ${scores}.`,
        );
      else if (run.snapshotFormat === 4)
        notes.push(
          `${v}'s checkpoint is from a release before the rolling forests (snapshot format 4): it is restored with scores close to the old ones, not identical; ${scores}.`,
        );
      else if (run.snapshotFormat === 5)
        notes.push(
          `${v}'s checkpoint is from a release whose alert budget counted each entity once (snapshot format 5): restored, it spends the budget per effective metric, so its decisions can differ from the stored ones; ${scores}.`,
        );
      else
        notes.push(
          `Replaying ${v}'s runtime from its checkpoint did not reproduce the stored result: ${scores}. The source rows may have changed since it was scored (rewritten or late data). The breakdown is the replay's.`,
        );
    }
    if (!e)
      notes.push(
        `The runtime was still warming up at this row: no forest scored it, so there is nothing to break down.`,
      );
    const contributions: ExplainedFeature[] = e
      ? topFeatures(e.contributions, e.features, e.features.length).map((c) => {
          const learnt = e.learnt[c.index];
          const w = e.window[c.index]!;
          return {
            feature: c.feature,
            field: fieldOf(c.feature, fields),
            contribution: c.contribution,
            share: c.share,
            value: e.values[c.index]!,
            percentile: w.percentile,
            trainingP5: w.p5,
            trainingMedian: w.median,
            trainingP95: w.p95,
            ...(learnt ? { learntLow: learnt.low, learntHigh: learnt.high } : {}),
          };
        })
      : [];
    const around = 60 * step;
    const [series] = await this.deps.readSource(
      spec,
      entitySource,
      stored.timeMs - around,
      stored.timeMs + around,
    );
    return {
      detector: detectorId,
      entity,
      time: at,
      modelVersion: stored.modelVersion,
      stage: stored.stage,
      score: stored.score,
      threshold: stored.threshold ?? 0,
      anomaly: stored.anomaly,
      severity: stored.severity,
      ...(stored.topFeature !== undefined ? { topFeature: stored.topFeature } : {}),
      reproduced,
      ...(notes.length ? { note: notes.join(' ') } : {}),
      replay: {
        from: new Date(from).toISOString(),
        rows: run.replayed,
        score: replayed.score,
        ...(replayed.topFeature !== undefined ? { topFeature: replayed.topFeature } : {}),
      },
      ...(e
        ? {
            forest: {
              group: e.group,
              retrain: e.retrain,
              trees: e.trees,
              groupScores: e.groupScores,
              ...(run.explainedTimeMs !== undefined
                ? { explainedTime: new Date(run.explainedTimeMs).toISOString() }
                : {}),
            },
          }
        : {}),
      baseline: e?.baseline ?? 0,
      pathLength: e?.pathLength ?? 0,
      contributions,
      series: {
        fields,
        time: series ? Array.from(series.timeMs) : [],
        values: series
          ? series.values.map((v) => Array.from(v, (y) => (Number.isNaN(y) ? null : y)))
          : fields.map(() => []),
      },
    };
  }

  /**
   * One entity's rows over [from, to), read a day at a time (read-days.ts: an explanation may
   * replay two weeks); undefined when there are none.
   */
  private async readDays(
    spec: DetectorSpec,
    source: SourceSpec,
    from: number,
    to: number,
  ): Promise<EntitySeries | undefined> {
    const [series] = await readByDays(from, to, (a, b) => this.deps.readSource(spec, source, a, b));
    return series;
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

/**
 * The detector runtimes of the service: one `StreamingDetector` per (detector, entity, stage),
 * bootstrapped from stored history, scored interval after interval, its snapshot saved in the
 * registry after each, swapped by promotion and restored by rollback. Its dependencies (registry,
 * source reader, results writer and reader, clock) are passed in, so it runs the same behind
 * Fastify, in a test with fakes, or in a benchmark.
 */
import { thresholdForAlertBudget } from '../../engine/index.js';
import { runStream, type StreamRun, type StreamTask } from '../../parallel/stream-run.js';
import { localStreamSession, type StreamSession } from '../../parallel/stream-session.js';
import type { EntitySeries, SourceSpec } from '../../io/influx/index.js';
import {
  RegistryError,
  type ModelVersionRecord,
  type Registry,
  type RuntimeStateRecord,
  type Verdict,
} from '../../io/registry/index.js';
import { readSpec, streamOptions, type DetectorSpec } from '../domain/spec.js';
import { UnprocessableError } from '../plugins/errors.js';
import { resolveSource } from '../sources.js';
import { fieldReference, readCheckpoint, type Checkpoint } from './checkpoints.js';
import { readByDays } from './read-days.js';
import {
  betterByVerdicts,
  countByVerdicts,
  countsText,
  hasVerdicts,
  type JudgedIncident,
} from './promotion.js';
import { resultLine, type ResultsReader } from './results.js';
import { rejudge, toScoredRow, toScoredRows, type ResultStage, type ScoredRow } from './runtime.js';

export type LiveStage = RuntimeStateRecord['stage'];

/**
 * A live scoring pass stopped by a failed write (InfluxDB not taking results): the message is the
 * write's; `scored` holds the production rows of the entities saved before it, whose intervals
 * are done and not scored again (the scheduler still alerts on them).
 */
export class ScoringInterrupted extends Error {
  override readonly name = 'ScoringInterrupted';
  constructor(
    override readonly cause: unknown,
    readonly scored: ScoredRow[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
export type PromotionPolicy = 'manual' | 'auto-if-better' | 'always';

export interface RuntimeDeps {
  registry: Registry;
  /** A detector's source rows in [from, to), one series per entity. */
  readSource(spec: DetectorSpec, source: SourceSpec, from: number, to: number): Promise<EntitySeries[]>;
  /** Writes result lines and resolves when they are handed to InfluxDB (or kept for retry). */
  writeResults(spec: DetectorSpec, lines: string[]): Promise<void>;
  /**
   * Writes a live interval's result lines, waiting a bounded time: throws when InfluxDB has not
   * taken them in time (the interval is then scored again on the next pass). Default writeResults.
   */
  writeLiveResults?(spec: DetectorSpec, lines: string[]): Promise<void>;
  results: ResultsReader;
  now(): number;
  /** Told how many production rows were scored (metrics). */
  onScored?(detectorId: string, rows: number): void;
  /**
   * Where a bootstrap's stream runs (the CPU-heavy part of training): the service passes
   * runStreamInWorker, so training never holds the event loop; default, this thread. Either way
   * the same runStream, so the same bits. `onProgress` throws to stop it (a cancelled job).
   */
  runStream?(task: StreamTask, onProgress: (done: number, total: number) => void): Promise<StreamRun>;
  /**
   * Where live scoring and backfills keep their detectors and score (restoring a snapshot, pushing
   * rows and writing a snapshot are their CPU-heavy parts): the service passes
   * workerStreamSession, so neither holds the event loop; default, this thread. Either way the
   * same engine, so the same bits. Live scoring keeps one session; each backfill opens its own.
   */
  streamSession?(): StreamSession;
  /**
   * Given the production rows once written (incidents): `live` when they continue the live
   * runtimes (in order, each row once), not for a backfill's past range.
   */
  onProduction?(
    detectorId: string,
    rows: ScoredRow[],
    options: { live: boolean; stepMs: number },
  ): Promise<void>;
}

/** What a job may do: report progress, and learn it was cancelled (see JobContext). */
export interface Progress {
  progress(phase: string, fraction: number): Promise<void>;
  checkpoint(): void;
  /** Runs a step again while InfluxDB is unavailable (JobContext.retry); without it, once. */
  retry?<T>(what: string, step: () => Promise<T>): Promise<T>;
}

/** A job's step, retried by the job when it can (see Progress.retry). */
const step = <T>(ctx: Progress, what: string, fn: () => Promise<T>): Promise<T> =>
  ctx.retry ? ctx.retry(what, fn) : fn();

export interface TrainingResult {
  entities: Array<{
    entity: string;
    version: number;
    rows: number;
    stage: string;
    /** How many forests the stream trained over the history (0: still warming up). */
    retrains: number;
    flaggedShare: number;
  }>;
  skipped: Array<{ entity: string; reason: string }>;
}

export interface ScoringResult {
  /** Production rows scored, and how many of them were anomalous. */
  rows: number;
  anomalies: number;
  /** The production rows, for the alert rule. */
  scored: ScoredRow[];
  /** Where the runtimes now stand (undefined: the detector has none). */
  scoredTo?: number;
}

const DAY = 86_400_000;
const STAGES: LiveStage[] = ['production', 'staging'];

/** The share of a holdout at the end of a bootstrap on which candidates and production are compared. */
const HOLDOUT = 0.15;

const key = (detectorId: string, entity: string, stage: string): string =>
  `${detectorId}\u0000${entity}\u0000${stage}`;

export class Runtimes {
  /**
   * The runtimes' detectors, kept between intervals in `scoring` (a worker thread in the service),
   * so a tick does not deserialize every model again. `live` holds the state each was saved as; a
   * held detector is used only while the registry's state is still that one (same version,
   * position and update time), so a restart, a promotion or another writer always wins. An entry
   * leaves `live` as soon as its detector takes rows, and comes back once its new state is saved,
   * so an interval that fails midway is scored again from the saved state, never twice.
   */
  private readonly live = new Map<string, RuntimeStateRecord>();
  private readonly scoring: StreamSession;
  /** Keys an interval is scoring now: a promotion meanwhile leaves their detector to it. */
  private readonly busy = new Set<string>();

  constructor(private readonly deps: RuntimeDeps) {
    this.scoring = deps.streamSession?.() ?? localStreamSession();
  }

  /** Drops the runtimes' detectors from memory (and stops their worker): the service is closing. */
  async close(): Promise<void> {
    this.live.clear();
    await this.scoring.close();
  }

  /** A detector's id and spec (validated and defaulted); 404 when it does not exist. */
  async detector(id: string): Promise<{ id: string; spec: DetectorSpec }> {
    const d = await this.deps.registry.getDetector(id);
    if (!d) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
    return { id, spec: readSpec(id, d.spec) };
  }

  /**
   * Bootstraps each entity from its stored history: a fresh detector runs over the last
   * `trainingWindowHours` before `to`, exactly as replay would over those rows; its results are
   * written as a backtest (stage `backtest`), and its snapshot becomes a new version (a
   * checkpoint). Once every entity has its version, the versions are promoted, kept as
   * candidates, or decided by a policy (a scheduled retrain), all in one registry transaction (all
   * entities or none), and the runtimes follow the stages.
   */
  async bootstrap(
    detectorId: string,
    options: { to?: number; promote?: boolean; actor: string; policy?: PromotionPolicy; trigger?: string },
    ctx: Progress,
  ): Promise<TrainingResult> {
    const { spec } = await this.detector(detectorId);
    const source = resolveSource(spec);
    const fields = source.fields.map((f) => f.field);
    // Whole intervals only, so the runtime's next interval starts on a bucket boundary.
    const step = spec.intervalSeconds * 1000;
    const to = Math.floor((options.to ?? this.deps.now()) / step) * step;
    const from = to - spec.trainingWindowHours * 3_600_000;
    await ctx.progress('reading', 0);
    const series = (await this.readDays(spec, source, from, to, ctx)).sort((a, b) =>
      a.entity.localeCompare(b.entity),
    );
    if (series.length === 0) {
      throw new UnprocessableError(
        `measurement '${source.measurement}' has no data between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
      );
    }
    const result: TrainingResult = { entities: [], skipped: [] };
    const moves: Array<{ version: number; to: 'production' | 'staging'; reason: string }> = [];
    for (const [i, s] of series.entries()) {
      ctx.checkpoint();
      await ctx.progress(
        `bootstrapping ${s.entity || 'the detector'} (${i + 1}/${series.length})`,
        i / series.length,
      );
      const label = { entity: s.entity, stage: 'backtest' as const, version: 0 };
      const task: StreamTask = {
        options: streamOptions(spec, fields),
        timeMs: s.timeMs,
        values: s.values,
        from,
        to,
      };
      const run = await (this.deps.runStream ?? runHere)(task, () => ctx.checkpoint());
      let rows = await inTurns(run.results, (r, k) => toScoredRow(r, run.times[k]!, label));
      const policy =
        spec.model.threshold !== undefined ? 'fixed' : (spec.model.thresholdPolicy ?? 'contamination');
      const decision =
        policy === 'fixed'
          ? spec.model.threshold
          : policy === 'alert-budget'
            ? alertBudget(rows, spec)
            : undefined;
      if (decision !== undefined) rows = rows.map((r) => rejudge(r, decision));
      const judged = rows.filter((r) => r.retrain > 0);
      const flagged = judged.filter((r) => r.anomaly).length;
      const last = rows.at(-1);
      const checkpoint: Checkpoint = {
        kind: 'stream',
        format: 1,
        from,
        to,
        reference: fieldReference(s, fields),
        snapshot: run.snapshot,
      };
      const o = run.options;
      const version = await this.deps.registry.addModelVersion(
        {
          detectorId,
          entity: s.entity,
          bundle: JSON.stringify(checkpoint),
          metrics: {
            rows: rows.length,
            judged: judged.length,
            flagged,
            flaggedShare: flagged / Math.max(1, judged.length),
          },
          params: {
            kind: 'stream',
            from,
            to,
            rows: rows.length,
            retrains: last?.retrain ?? 0,
            threshold: decision ?? last?.threshold ?? 0,
            thresholdBy: policy,
            ...(decision !== undefined ? { decisionThreshold: decision } : {}),
            features: o.features,
            trees: o.trees,
            maxSamples: o.maxSamples,
            contamination: o.contamination,
            outOfRange: o.outOfRange,
            seed: o.seed,
            warmup: o.warmup,
            retrainEvery: o.retrainEvery,
            window: o.window,
            ensemble: o.ensemble,
            smoothing: o.smoothing,
            ...(options.trigger ? { trigger: options.trigger } : {}),
          },
        },
        options.actor,
        this.deps.now(),
      );
      await this.deps.writeResults(
        spec,
        await inTurns(rows, (r) => resultLine(detectorId, { ...r, modelVersion: version.version })),
      );
      // Stages move only once every entity is trained, all in one transaction (below): a job that
      // fails or is stopped midway leaves every entity on the model it had.
      let stage: string = version.stage;
      if (options.policy) {
        const d = await this.decide(
          detectorId,
          version,
          rows,
          from,
          to,
          options.policy,
          options.trigger ?? 'retrain',
          step,
        );
        moves.push({ version: version.version, ...d });
        stage = d.to;
      } else if (options.promote) {
        moves.push({
          version: version.version,
          to: 'production',
          reason: 'promoted by the training request',
        });
        stage = 'production';
      }
      result.entities.push({
        entity: s.entity,
        version: version.version,
        rows: rows.length,
        stage,
        retrains: last?.retrain ?? 0,
        flaggedShare: flagged / Math.max(1, judged.length),
      });
    }
    ctx.checkpoint();
    if (moves.length > 0)
      await this.deps.registry.models.setStages(detectorId, moves, options.actor, this.deps.now());
    await this.follow(detectorId);
    await ctx.progress('stored', 1);
    return result;
  }

  /**
   * A retrain's decision for one candidate, with its numbers for the stage history. Both are
   * judged on the same recent rows, the bootstrap's last 15 %: the candidate by its backtest,
   * production by the results it wrote for them. When operators judged incidents of the entity
   * there (real, or not an anomaly), `auto-if-better` counts the real incidents each finds and its
   * false alarms (promotion.ts) and promotes a candidate that finds at least as many with no more
   * false alarms. Without verdicts it compares how much of the holdout each flags: that data is
   * mostly normal, so the one that flags less of it is the steadier.
   */
  private async decide(
    detectorId: string,
    candidate: ModelVersionRecord,
    rows: ScoredRow[],
    from: number,
    to: number,
    policy: PromotionPolicy,
    trigger: string,
    stepMs: number,
  ): Promise<{ to: 'production' | 'staging'; reason: string }> {
    const holdoutFrom = to - HOLDOUT * (to - from);
    const holdout = <T extends { timeMs: number }>(list: T[]): T[] =>
      list.filter((r) => r.timeMs >= holdoutFrom && r.timeMs < to);
    const share = (list: Array<{ timeMs: number; anomaly: boolean }>): number | undefined => {
      const inside = holdout(list);
      return inside.length ? inside.filter((r) => r.anomaly).length / inside.length : undefined;
    };
    const mine = share(rows) ?? 0;
    const production = (await this.deps.registry.listModelVersions(detectorId)).find(
      (v) => v.entity === candidate.entity && v.stage === 'production',
    );
    const theirRows = production
      ? await this.deps.results.read(detectorId, holdoutFrom, to, {
          entity: candidate.entity,
          stage: 'production',
        })
      : [];
    const theirs = production ? share(theirRows) : undefined;
    const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
    let numbers =
      theirs === undefined
        ? `candidate flags ${pct(mine)} of the recent holdout; ${production ? `production v${production.version} scored none of it` : 'no production version'}`
        : `candidate flags ${pct(mine)} of the recent holdout, production v${production!.version} ${pct(theirs)}`;
    let to_ = decideStage(policy, mine, theirs);
    if (policy === 'auto-if-better' && theirs !== undefined) {
      const judged = await this.judgedIncidents(detectorId, candidate.entity, holdoutFrom, to);
      if (hasVerdicts(judged)) {
        const byTime = (a: { timeMs: number }, b: { timeMs: number }): number => a.timeMs - b.timeMs;
        const cand = countByVerdicts(holdout(rows).sort(byTime), judged, stepMs);
        const prod = countByVerdicts(holdout(theirRows).sort(byTime), judged, stepMs);
        const real = judged.filter((i) => i.verdict === 'real').length;
        const wrong = judged.filter((i) => i.verdict === 'not_anomaly').length;
        numbers =
          `by verdicts on the recent holdout (${real} real, ${wrong} not an anomaly): ` +
          `candidate ${countsText(cand)}; production v${production!.version} ${countsText(prod)} ` +
          `(by share flagged: candidate ${pct(mine)}, production ${pct(theirs)})`;
        to_ = betterByVerdicts(cand, prod) ? 'production' : 'staging';
      }
    }
    const why = `${trigger}, ${policy}: ${numbers}${to_ === 'staging' ? (policy === 'manual' ? ' (shadow scoring until an admin promotes)' : ' (not better: shadow scoring)') : ''}`;
    return { to: to_, reason: why };
  }

  /** The entity's incidents overlapping [from, to) with their current verdicts. */
  private async judgedIncidents(
    detectorId: string,
    entity: string,
    from: number,
    to: number,
  ): Promise<JudgedIncident[]> {
    const { incidents } = this.deps.registry;
    const list = await incidents.list({ detectorId, entity, from, to, limit: 10_000 });
    const latest = new Map<string, Verdict>();
    for (const f of await incidents.feedback(list.map((i) => i.id))) latest.set(f.incidentId, f.verdict);
    return list.map((i) => ({
      startAt: i.startAt,
      endAt: i.endAt,
      ...(latest.has(i.id) ? { verdict: latest.get(i.id)! } : {}),
    }));
  }

  /**
   * Makes the runtimes follow the stages: each entity's production and staging runtime descends
   * from the version in that stage. A runtime whose version left the stage is replaced by the new
   * version's checkpoint (rollback: an earlier checkpoint; its next interval catches up from the
   * checkpoint's end), except that a version promoted from staging takes its shadow runtime's
   * state along, which has scored the same rows all along (promotion swaps). A stage left
   * without a version loses its runtime.
   */
  async follow(detectorId: string): Promise<void> {
    const { registry } = this.deps;
    const versions = await registry.listModelVersions(detectorId); // newest first
    const states = await registry.listRuntimeStates(detectorId);
    const entities = [...new Set([...versions.map((v) => v.entity), ...states.map((s) => s.entity)])];
    for (const entity of entities) {
      // The registry (SQLite) answers synchronously: without a turn between entities, moving a
      // fleet's multi-megabyte states would be one long stall of the event loop.
      await nextTurn();
      const wanted = new Map<LiveStage, ModelVersionRecord | undefined>(
        STAGES.map((stage) => [stage, versions.find((v) => v.entity === entity && v.stage === stage)]),
      );
      const current = new Map(states.filter((s) => s.entity === entity).map((s) => [s.stage, s]));
      const next = new Map<LiveStage, RuntimeStateRecord | undefined>();
      for (const stage of STAGES) {
        const v = wanted.get(stage);
        if (!v) continue;
        if (current.get(stage)?.version === v.version) continue;
        const from = [...current.values()].find((s) => s.version === v.version);
        if (from) {
          const full = await registry.getRuntimeState(detectorId, entity, from.stage);
          next.set(stage, { ...full!, stage, updatedAt: this.deps.now() });
        } else {
          const record = await registry.getModelVersion(detectorId, v.version);
          const ck = readCheckpoint(record!);
          next.set(stage, {
            detectorId,
            entity,
            stage,
            version: v.version,
            scoredTo: ck.to,
            snapshot: ck.snapshot,
            updatedAt: this.deps.now(),
          });
        }
      }
      for (const stage of STAGES) {
        const state = next.get(stage);
        if (state) await registry.setRuntimeState(state);
        else if (!wanted.get(stage) && current.has(stage))
          await registry.deleteRuntimeState(detectorId, entity, stage);
        this.forget(key(detectorId, entity, stage));
      }
    }
  }

  /**
   * The fields, in order, that each version in production or staging was trained on: a runtime
   * reads its rows as those columns, so a spec must keep them. A version's params name them (the
   * stream options it was trained with: `features.fields`, the fields its checkpoint's reference
   * was taken over), so the version list is enough; only a version whose params do not (written
   * by an older service) has its bundle read, checkpoint, forests and all, for the reference.
   */
  async liveFields(
    detectorId: string,
  ): Promise<Array<{ version: number; entity: string; stage: string; fields: string[] }>> {
    const out = [];
    for (const v of await this.deps.registry.listModelVersions(detectorId)) {
      if (v.stage !== 'production' && v.stage !== 'staging') continue;
      let fields = trainedFields(v.params);
      if (!fields) {
        const record = await this.deps.registry.getModelVersion(detectorId, v.version);
        const reference = (JSON.parse(record?.bundle ?? '{}') as Partial<Checkpoint>).reference;
        if (!Array.isArray(reference)) continue; // not a streaming checkpoint: it cannot score anyway
        fields = reference.map((r) => r.feature);
      }
      out.push({ version: v.version, entity: v.entity, stage: v.stage, fields });
    }
    return out;
  }

  /**
   * Makes `scoring` hold a runtime's detector as its stored state says (from memory when nothing
   * changed since) and returns its key there.
   */
  private async load(state: RuntimeStateRecord): Promise<string> {
    const k = key(state.detectorId, state.entity, state.stage);
    const hit = this.live.get(k);
    if (
      hit &&
      this.scoring.has(k) &&
      hit.version === state.version &&
      hit.scoredTo === state.scoredTo &&
      hit.updatedAt === state.updatedAt
    )
      return k;
    const full = await this.deps.registry.getRuntimeState(state.detectorId, state.entity, state.stage);
    await this.scoring.open(k, { snapshot: full!.snapshot });
    return k;
  }

  private forget(k: string): void {
    this.live.delete(k);
    if (!this.busy.has(k)) this.scoring.drop(k);
  }

  /**
   * Live scoring: every runtime of the detector scores its rows from where it stopped up to `to`,
   * reading a day at a time (so a long outage is caught up in bounded reads), writes them, then
   * saves its snapshot. Results are written before the state: a process killed in between scores
   * the interval again from the old state and writes the same points again. `only` limits it to
   * some entities (a worker's shard; the caller holds the shard's lock).
   */
  async scoreUpTo(
    detectorId: string,
    to: number,
    only?: (entity: string) => boolean,
  ): Promise<ScoringResult> {
    const { spec } = await this.detector(detectorId);
    const source = resolveSource(spec);
    const production: ScoredRow[] = [];
    let states = await this.deps.registry.listRuntimeStates(detectorId);
    if (only) states = states.filter((s) => only(s.entity));
    if (states.length === 0) return { rows: 0, anomalies: 0, scored: [] };
    const decisions = await this.decisions(detectorId);
    // The production rows of the intervals saved: counted and grouped into incidents.
    const finish = async (): Promise<void> => {
      production.sort((a, b) => a.timeMs - b.timeMs || a.entity.localeCompare(b.entity));
      this.deps.onScored?.(detectorId, production.length);
      if (production.length > 0)
        await this.deps.onProduction?.(detectorId, production, {
          live: true,
          stepMs: spec.intervalSeconds * 1000,
        });
    };
    for (;;) {
      const start = Math.min(...states.map((s) => s.scoredTo));
      const end = Math.min(to, start + DAY);
      if (end <= start) break;
      const series = await this.deps.readSource(spec, source, start, end);
      const byEntity = new Map(series.map((s) => [s.entity, s]));
      const next: RuntimeStateRecord[] = [];
      for (const state of states) {
        if (state.scoredTo >= end) {
          next.push(state);
          continue;
        }
        const k = key(detectorId, state.entity, state.stage);
        this.busy.add(k);
        try {
          await this.load(state);
          this.live.delete(k);
          const s = byEntity.get(state.entity) ?? {
            entity: state.entity,
            timeMs: new Float64Array(0),
            values: [],
          };
          const rows = toScoredRows(
            await this.scoring.push(k, s, state.scoredTo, end),
            this.label(decisions, state.entity, state.stage, state.version),
          );
          try {
            await (this.deps.writeLiveResults ?? this.deps.writeResults)(
              spec,
              rows.map((r) => resultLine(detectorId, r)),
            );
          } catch (err) {
            // The worker's detector has taken these rows, the registry's state has not: drop it,
            // so the next pass scores the interval again from the saved state.
            this.busy.delete(k);
            this.forget(k);
            await finish();
            throw new ScoringInterrupted(err, production);
          }
          const saved: RuntimeStateRecord = {
            ...state,
            scoredTo: end,
            snapshot: await this.scoring.snapshot(k),
            updatedAt: this.deps.now(),
          };
          // A promotion or rollback during this interval replaced the runtime: it wins, and this
          // detector's state is dropped (its results were written under the version it scored for).
          // Checked after the last wait for the worker, so nothing comes between it and the save.
          // This entity's runtimes only: every entity checks, so a whole list each was quadratic.
          const now = (await this.deps.registry.listRuntimeStates(detectorId, state.entity)).find(
            (s) => s.entity === state.entity && s.stage === state.stage,
          );
          if (now?.version !== state.version || now.updatedAt !== state.updatedAt) {
            this.busy.delete(k);
            this.forget(k);
            if (state.stage === 'production') production.push(...rows);
            continue;
          }
          await this.deps.registry.setRuntimeState(saved);
          const listed = { ...saved, snapshot: '' };
          this.live.set(k, listed);
          next.push(listed);
          if (state.stage === 'production') production.push(...rows);
        } finally {
          this.busy.delete(k);
        }
      }
      states = next;
    }
    await finish();
    return {
      rows: production.length,
      anomalies: production.filter((r) => r.anomaly).length,
      scored: production,
      ...(states.length > 0 ? { scoredTo: Math.min(...states.map((s) => s.scoredTo)) } : {}),
    };
  }

  /**
   * Scores a past range and writes the results, leaving the live runtimes as they are. Each
   * (entity, stage) starts from the latest state of its lineage that has seen nothing at or
   * after `from`: the live runtime, else its version's checkpoint, else (a checkpoint from after
   * `from`) a fresh detector bootstrapped over the `trainingWindowHours` before `from`. So a
   * backfill right after a bootstrap continues it, and together they equal a replay of every
   * row from the bootstrap's start.
   */
  async backfill(
    detectorId: string,
    from: number,
    to: number,
    ctx: Progress,
  ): Promise<{ rows: number; anomalies: number }> {
    const { spec } = await this.detector(detectorId);
    const source = resolveSource(spec);
    const fields = source.fields.map((f) => f.field);
    const versions = await this.deps.registry.listModelVersions(detectorId);
    const states = await this.deps.registry.listRuntimeStates(detectorId);
    // The runs' own detectors, apart from the live ones (on a worker of their own in the service).
    const session = this.deps.streamSession?.() ?? localStreamSession();
    try {
      const runs: Array<{ entity: string; stage: LiveStage; version: number; key: string; at: number }> = [];
      for (const stage of STAGES) {
        const seen = new Set<string>();
        for (const v of versions) {
          if (v.stage !== stage || seen.has(v.entity)) continue;
          seen.add(v.entity);
          const state = states.find(
            (s) => s.entity === v.entity && s.stage === stage && s.version === v.version,
          );
          const run = { entity: v.entity, stage, version: v.version, key: key(detectorId, v.entity, stage) };
          let at: number | undefined;
          if (state && state.scoredTo <= from) {
            // From the registry, not memory: the live detector may be scoring at the same time.
            const full = await this.deps.registry.getRuntimeState(detectorId, v.entity, stage);
            await session.open(run.key, { snapshot: full!.snapshot });
            at = full!.scoredTo;
          } else {
            const ck = readCheckpoint((await this.deps.registry.getModelVersion(detectorId, v.version))!);
            if (ck.to <= from) {
              await session.open(run.key, { snapshot: ck.snapshot });
              at = ck.to;
            }
          }
          if (at === undefined) {
            await session.open(run.key, { options: streamOptions(spec, fields) });
            at = from - spec.trainingWindowHours * 3_600_000;
          }
          runs.push({ ...run, at });
        }
      }
      if (!runs.some((r) => r.stage === 'production'))
        throw new RegistryError(
          'CONFLICT',
          `detector '${detectorId}' has no production version: train and promote one first`,
        );
      const decisions = await this.decisions(detectorId);
      const begin = Math.min(...runs.map((r) => r.at));
      let rows = 0;
      let anomalies = 0;
      for (let t = begin; t < to; t += DAY) {
        ctx.checkpoint();
        await ctx.progress('scoring', (t - begin) / (to - begin));
        const end = Math.min(to, t + DAY);
        // An outage retries this day's read: the days before it are written, the runs stand at its start.
        const day = await step(ctx, `scoring ${new Date(t).toISOString().slice(0, 10)}`, () =>
          this.deps.readSource(spec, source, t, end),
        );
        const series = new Map(day.map((s) => [s.entity, s]));
        const lines: string[] = [];
        const scoredRows: ScoredRow[] = [];
        for (const run of runs) {
          const s = series.get(run.entity);
          if (!s || end <= run.at) continue;
          const scored = toScoredRows(
            await session.push(run.key, s, Math.max(t, run.at), end),
            this.label(decisions, run.entity, run.stage, run.version),
          );
          for (const r of scored) {
            if (r.timeMs < from) continue;
            lines.push(resultLine(detectorId, r));
            if (run.stage === 'production') {
              scoredRows.push(r);
              rows++;
              if (r.anomaly) anomalies++;
            }
          }
        }
        await this.deps.writeResults(spec, lines);
        if (scoredRows.length > 0)
          await this.deps.onProduction?.(detectorId, scoredRows, {
            live: false,
            stepMs: spec.intervalSeconds * 1000,
          });
      }
      this.deps.onScored?.(detectorId, rows);
      return { rows, anomalies };
    } finally {
      await session.close();
    }
  }

  /** The window read a day at a time (read-days.ts), each day with the job's retries. */
  private readDays(
    spec: DetectorSpec,
    source: SourceSpec,
    from: number,
    to: number,
    ctx: Progress,
  ): Promise<EntitySeries[]> {
    return readByDays(from, to, (a, b) =>
      step(ctx, `reading ${new Date(a).toISOString().slice(0, 10)}`, () =>
        this.deps.readSource(spec, source, a, b),
      ),
    );
  }

  /** Each version's own decision threshold (fixed, or its alert budget), when it has one. */
  private async decisions(detectorId: string): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const v of await this.deps.registry.listModelVersions(detectorId)) {
      const d = (v.params as { decisionThreshold?: unknown } | null)?.decisionThreshold;
      if (typeof d === 'number') out.set(v.version, d);
    }
    return out;
  }

  private label(decisions: Map<number, number>, entity: string, stage: ResultStage, version: number) {
    const fixed = decisions.get(version);
    return { entity, stage, version, ...(fixed !== undefined ? { fixedThreshold: fixed } : {}) };
  }
}

/**
 * The alert budget over a bootstrap's judged rows: the lowest threshold at which not one row of
 * the last three quarters of that history would have been flagged (so neither would the alert
 * rule have paged), which is their highest score. Metrics are autocorrelated, so a quantile
 * (a share of anomalous points) pages for every busy hour of a normal week; this budgets pages.
 * The first quarter does not count: right after the warm-up the stream's first models have seen
 * a few hours, and much after looks new to them (a daily cycle). Measured in docs/operations.md.
 */
function alertBudget(rows: ScoredRow[], spec: DetectorSpec): number | undefined {
  const judged = rows.filter((r) => r.retrain > 0);
  const scores = judged.slice(Math.floor(judged.length / 4)).map((r) => r.score);
  if (scores.length === 0) return undefined;
  const rule = { window: spec.alerting.window, minAnomalous: 1 };
  return thresholdForAlertBudget(scores, rule, 0);
}

/**
 * A bootstrap's stream on this thread, when no worker runs it (tests with fakes, benchmarks): one
 * turn of the event loop first, so the job's own request answers before the CPU work starts.
 */
async function runHere(
  task: StreamTask,
  onProgress: (done: number, total: number) => void,
): Promise<StreamRun> {
  await new Promise((r) => setImmediate(r));
  return runStream(task, onProgress);
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * `items.map(fn)` a block at a time with a turn of the event loop between blocks: a bootstrap's
 * week of minute rows takes seconds to label and format on a loaded machine, and requests (and
 * the overload check's clock) should not wait for all of it.
 */
async function inTurns<T, U>(items: readonly T[], fn: (item: T, i: number) => U, block = 2048): Promise<U[]> {
  const out: U[] = [];
  for (let at = 0; at < items.length; at += block) {
    if (at > 0) await nextTurn();
    for (let i = at; i < Math.min(items.length, at + block); i++) out.push(fn(items[i]!, i));
  }
  return out;
}

/**
 * Where a retrain's candidate goes: `always` to production, `manual` to staging, `auto-if-better`
 * to production when it flags no more of the recent rows than production did (or there is no
 * production to compare with), else to staging as a shadow.
 */
export function decideStage(
  policy: PromotionPolicy,
  candidateShare: number,
  productionShare: number | undefined,
): 'production' | 'staging' {
  if (policy === 'always') return 'production';
  if (policy === 'manual') return 'staging';
  return productionShare === undefined || candidateShare <= productionShare ? 'production' : 'staging';
}

/** The fields a stream version's params say it was trained on, if they say it. */
function trainedFields(params: unknown): string[] | undefined {
  const p = params as { kind?: unknown; features?: { fields?: unknown } } | null;
  const fields = p?.kind === 'stream' ? p.features?.fields : undefined;
  return Array.isArray(fields) && fields.every((f) => typeof f === 'string') ? fields : undefined;
}

/**
 * Incidents: the flagged rows of one (detector, entity) grouped as the person on call meets them.
 * An incident opens on a flagged row and stays firing while flags follow fewer than
 * `EPISODE_GAP` rows apart (the episodes `isoscope evaluate` counts, `episodesOf`); after that
 * many quiet rows it is resolved. Live scoring feeds each interval's rows in order and the open
 * incident carries across intervals (its quiet rows and last scores are stored with it); a
 * backfill's rows are grouped the same way and merged into the incidents they touch, so scoring
 * a range twice (a backfill, an interval scored again after a crash) does not duplicate them.
 *
 * The peak is the incident's most representative moment, the one "explain" opens: the maximum of
 * the smoothed score s̄ₜ = mean(sₜ₋ₖ₊₁ … sₜ) over the incident's rows (k = SMOOTH_ROWS, fewer at
 * its start), so a one-row blip inside a long episode does not outrank the sustained stretch.
 */
import { randomUUID } from 'node:crypto';
import { EPISODE_GAP, episodesOf } from '../../engine/index.js';
import {
  SEVERITIES,
  type IncidentRecord,
  type IncidentSeverity,
  type Registry,
  type SuppressedBy,
  type SuppressionRule,
} from '../../io/registry/index.js';
import { suppresses } from '../domain/suppression.js';
import type { ScoredRow } from './runtime.js';

/** Rows averaged into the smoothed score whose peak marks an incident. */
export const SMOOTH_ROWS = 5;

const RANK = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]));
const worse = (a: IncidentSeverity, b: string): IncidentSeverity =>
  (RANK.get(b) ?? 0) > (RANK.get(a) ?? 0) ? (b as IncidentSeverity) : a;

/** What a suppression rule judges a flagged row by. */
export type FlaggedRow = Pick<ScoredRow, 'timeMs' | 'topFeature'>;

/**
 * Every suppression rule a flagged row falls inside (recorded, not paged), oldest first;
 * undefined when none.
 */
export type SuppressionCheck = (
  detectorId: string,
  entity: string,
  row: FlaggedRow,
) => SuppressedBy[] | undefined;

export interface IncidentDeps {
  registry: Registry;
  now(): number;
  /** The suppression rules as they stand, read once per batch; none when absent. */
  suppression?(): Promise<SuppressionCheck>;
  /** Told of each incident opened or changed (annotations, metrics). */
  onChange?(incidents: IncidentRecord[]): Promise<void>;
  /**
   * The flagged production rows of (detector, entity) in [from, to), oldest first, as results
   * stored them: what a rule added later judges a recorded incident by.
   */
  flaggedRows?(detectorId: string, entity: string, from: number, to: number): Promise<FlaggedRow[]>;
  /** Told of firing incidents a rule added later suppressed, so their open alerts resolve. */
  onSuppressed?(incidents: IncidentRecord[]): Promise<void>;
}

/** One incident changed by a batch of rows, before it is stored. */
interface Draft {
  record: IncidentRecord;
  /** Every flagged row was suppressed so far (an incident with no flag yet counts as suppressed). */
  allSuppressed: boolean;
  /** The rule that held its first suppressed flag: the one an operator is shown. */
  by?: SuppressedBy;
  /** Every rule that held one of its flags, in the order they first did. */
  all: SuppressedBy[];
}

/** Adds the rules not in `into` yet (by id), keeping the order. */
function addRules(into: SuppressedBy[], rules: readonly SuppressedBy[]): void {
  for (const r of rules) if (!into.some((x) => x.ruleId === r.ruleId)) into.push(r);
}

export class Incidents {
  private suppressedBy: SuppressionCheck = () => undefined;

  constructor(private readonly deps: IncidentDeps) {}

  /**
   * Groups a batch of scored production rows (any entities, each entity's rows in time order)
   * into incidents and stores them. `live`: the rows continue the live runtime, so an entity's
   * firing incident is continued and may stay firing; otherwise (a backfill) the rows are a
   * past range and every incident they make is resolved at its end. `stepMs`: the detector's
   * interval, to recognise a backfilled episode as the continuation of a stored incident.
   * Returns the incidents opened or changed.
   */
  async record(
    detectorId: string,
    rows: ScoredRow[],
    options: { live: boolean; stepMs: number },
  ): Promise<IncidentRecord[]> {
    const byEntity = new Map<string, ScoredRow[]>();
    for (const r of rows) {
      const list = byEntity.get(r.entity);
      if (list) list.push(r);
      else byEntity.set(r.entity, [r]);
    }
    if (byEntity.size === 0) return [];
    this.suppressedBy = (await this.deps.suppression?.()) ?? (() => undefined);
    const changed: IncidentRecord[] = [];
    for (const [entity, list] of byEntity) {
      list.sort((a, b) => a.timeMs - b.timeMs);
      const drafts = options.live
        ? await this.continueLive(detectorId, entity, list)
        : await this.mergePast(detectorId, entity, list, options.stepMs);
      for (const d of drafts) {
        d.record.suppressed = d.allSuppressed;
        // Named only while nothing outside the rules has flagged: then the incident paged.
        if (d.allSuppressed && d.by) {
          d.record.suppressedBy = d.by;
          d.record.suppressedByAll = d.all;
        } else {
          delete d.record.suppressedBy;
          delete d.record.suppressedByAll;
        }
        d.record.updatedAt = this.deps.now();
        await this.deps.registry.incidents.put(d.record);
        changed.push(d.record);
      }
    }
    if (changed.length > 0) await this.deps.onChange?.(changed);
    return changed;
  }

  /**
   * A rule applied to incidents already recorded ("apply to incidents since"), as if it had been
   * there when their rows were scored. Looked at: the incidents of the rule's detector and entity
   * (each when set) whose span reaches `since` or later, the firing ones included. Each one's
   * flagged rows are read back from the results and judged against the rules as they stand plus
   * this one (stored or not):
   * - not suppressed, and every flagged row now inside a rule, this one holding at least one:
   *   it becomes suppressed, naming the rule of its first flagged row and every rule that held
   *   one, as live scoring would have;
   * - suppressed already, and this rule holding one of its rows: the rule joins `suppressedByAll`.
   * Rules only ever add: nothing stops being suppressed here (nor when a rule is deleted).
   * `store` (adding the rule) runs after every read and before any incident changes, so a read
   * that fails (InfluxDB down) leaves no rule and no incident half done. Firing incidents that
   * become suppressed go to `onSuppressed` (their alerts resolve); every change to `onChange`.
   * Returns the incidents changed, and which of them it made suppressed.
   */
  async applyRule(
    rule: SuppressionRule,
    since: number,
    store: () => Promise<void> = async () => undefined,
  ): Promise<{ changed: IncidentRecord[]; suppressed: IncidentRecord[] }> {
    const current = (await this.deps.suppression?.()) ?? (() => undefined);
    const own: SuppressedBy = { ruleId: rule.id, reason: rule.reason };
    const recorded = await this.deps.registry.incidents.list({
      ...(rule.detectorId !== undefined ? { detectorId: rule.detectorId } : {}),
      ...(rule.entity !== undefined ? { entity: rule.entity } : {}),
      from: since,
      limit: 10_000,
    });
    // A metric rule holds only rows that metric topped; a period only rows inside it.
    const candidates = recorded.filter(
      (incident) =>
        (rule.metric === undefined || Object.hasOwn(incident.topMetrics, rule.metric)) &&
        (rule.kind !== 'period' || (incident.endAt >= rule.start && incident.startAt < rule.end)),
    );
    const flagged = await this.flaggedRowsOf(candidates);
    const judged: IncidentRecord[] = [];
    for (const incident of candidates) {
      const rows = flagged.get(incident.id) ?? [];
      let held = false;
      let allInside = rows.length > 0;
      let first: SuppressedBy | undefined;
      const all: SuppressedBy[] = [];
      for (const row of rows) {
        const by = [...(current(incident.detectorId, incident.entity, row) ?? [])];
        if (suppresses(rule, incident.detectorId, incident.entity, row)) {
          held = true;
          addRules(by, [own]);
        }
        if (by.length === 0) {
          allInside = false;
          continue;
        }
        first ??= by[0];
        addRules(all, by);
      }
      if (!held) continue;
      if (incident.suppressed) {
        const before = incident.suppressedByAll ?? (incident.suppressedBy ? [incident.suppressedBy] : []);
        if (before.some((r) => r.ruleId === rule.id)) continue;
        judged.push({ ...incident, suppressedByAll: [...before, own] });
      } else if (allInside && first) {
        judged.push({ ...incident, suppressed: true, suppressedBy: first, suppressedByAll: all });
      }
    }
    await store();
    const changed: IncidentRecord[] = [];
    for (const j of judged) {
      // Live scoring may have extended it since it was read: then its new rows were judged with
      // the rules of that pass, and this judgement is out of date.
      const fresh = await this.deps.registry.incidents.get(j.id);
      if (!fresh || fresh.flagged !== j.flagged || fresh.endAt !== j.endAt) continue;
      const next: IncidentRecord = {
        ...fresh,
        suppressed: j.suppressed,
        ...(j.suppressedBy ? { suppressedBy: j.suppressedBy } : {}),
        ...(j.suppressedByAll ? { suppressedByAll: j.suppressedByAll } : {}),
        updatedAt: this.deps.now(),
      };
      await this.deps.registry.incidents.put(next);
      changed.push(next);
    }
    const suppressed = changed.filter((c) => !recorded.find((r) => r.id === c.id)?.suppressed);
    const quietened = suppressed.filter((c) => c.state === 'firing');
    if (quietened.length > 0) await this.deps.onSuppressed?.(quietened);
    if (changed.length > 0) await this.deps.onChange?.(changed);
    return { changed, suppressed };
  }

  /**
   * Each incident's flagged rows, read once per detector and entity over the span of its
   * incidents (flagged rows are few, and a broad rule applied months back otherwise made one
   * InfluxDB read per incident), then cut at each incident's start and end.
   */
  private async flaggedRowsOf(incidents: IncidentRecord[]): Promise<Map<string, FlaggedRow[]>> {
    const out = new Map<string, FlaggedRow[]>();
    const read = this.deps.flaggedRows;
    if (!read) return out;
    const groups = new Map<string, IncidentRecord[]>();
    for (const i of incidents) {
      const key = JSON.stringify([i.detectorId, i.entity]);
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    }
    for (const group of groups.values()) {
      const { detectorId, entity } = group[0]!;
      const from = Math.min(...group.map((i) => i.startAt));
      const to = Math.max(...group.map((i) => i.endAt)) + 1;
      const rows = (await read(detectorId, entity, from, to)).sort((a, b) => a.timeMs - b.timeMs);
      for (const i of group) {
        let a = 0;
        let b = rows.length;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (rows[mid]!.timeMs < i.startAt) a = mid + 1;
          else b = mid;
        }
        let end = a;
        while (end < rows.length && rows[end]!.timeMs <= i.endAt) end++;
        out.set(i.id, rows.slice(a, end));
      }
    }
    return out;
  }

  /** Live rows of one entity: continue its firing incident, open new ones, resolve after the gap. */
  private async continueLive(detectorId: string, entity: string, rows: ScoredRow[]): Promise<Draft[]> {
    const open = await this.deps.registry.incidents.firing(detectorId, entity);
    // The firing incident's last flag and the quiet rows since stand before the batch, so
    // episodesOf sees the gap exactly as it would over the whole series.
    const prefix = open ? 1 + open.quietRows : 0;
    const flags = new Uint8Array(prefix + rows.length);
    if (open) flags[0] = 1;
    rows.forEach((r, i) => (flags[prefix + i] = r.anomaly ? 1 : 0));
    const drafts: Draft[] = [];
    const episodes = episodesOf(flags, EPISODE_GAP);
    for (const [i, [a, b]] of episodes.entries()) {
      // With a firing incident the first episode is always its own (it holds the flag at 0), and
      // takes the batch's first rows when a flag joins it within the gap.
      const own = open !== undefined && a === 0;
      const end = Math.max(0, b - prefix + 1);
      const draft = own ? this.stored(open) : this.fresh(detectorId, entity, rows[a - prefix]!.timeMs);
      if (own) this.extend(draft, detectorId, rows.slice(0, end), open.recent, open.quietRows);
      else this.extend(draft, detectorId, rows.slice(a - prefix, end), [], 0);
      const quiet = i === episodes.length - 1 ? flags.length - 1 - b : EPISODE_GAP;
      const firing = quiet < EPISODE_GAP;
      draft.record.quietRows = Math.min(quiet, EPISODE_GAP);
      draft.record.state = firing ? 'firing' : 'resolved';
      // While firing, the scores after the last flag are where the smoothed score resumes.
      draft.record.recent = firing
        ? lastScores([...draft.record.recent, ...rows.slice(end).map((r) => r.score)])
        : [];
      drafts.push(draft);
    }
    // Only the last can still fire, and the ones before are stored first: one firing per entity.
    return drafts;
  }

  /**
   * Rows of a past range: each episode is merged into a stored incident of the entity that it
   * overlaps or follows within the gap (in time: EPISODE_GAP intervals), else stored as a new
   * resolved incident.
   */
  private async mergePast(
    detectorId: string,
    entity: string,
    rows: ScoredRow[],
    stepMs: number,
  ): Promise<Draft[]> {
    const episodes = episodesOf(
      rows.map((r) => r.anomaly),
      EPISODE_GAP,
    );
    if (episodes.length === 0) return [];
    const reach = EPISODE_GAP * stepMs;
    const stored = await this.deps.registry.incidents.list({
      detectorId,
      entity,
      from: rows[episodes[0]![0]]!.timeMs - reach,
      to: rows[episodes.at(-1)![1]]!.timeMs + reach + 1,
    });
    const drafts = new Map<string, Draft>();
    for (const [a, b] of episodes) {
      const from = rows[a]!.timeMs;
      const to = rows[b]!.timeMs;
      const near = (i: IncidentRecord): boolean => i.startAt - reach < to && from < i.endAt + reach;
      const known = [...drafts.values()].find((d) => near(d.record))?.record ?? stored.find(near);
      let draft = known ? drafts.get(known.id) : undefined;
      if (!draft) {
        draft = known ? this.stored(known) : this.fresh(detectorId, entity, from);
        drafts.set(draft.record.id, draft);
      }
      const merged = known !== undefined;
      this.extend(draft, detectorId, rows.slice(a, b + 1), [], 0, merged);
      if (merged) {
        // The span in rows as the intervals count it, when the merge widened it.
        const spanned = Math.round((draft.record.endAt - draft.record.startAt) / stepMs) + 1;
        draft.record.spanRows = Math.max(draft.record.spanRows, spanned);
      } else {
        draft.record.state = 'resolved';
        draft.record.quietRows = EPISODE_GAP;
        draft.record.recent = [];
      }
    }
    return [...drafts.values()];
  }

  /** A stored incident as a draft to extend, the rule that kept it quiet carried along. */
  private stored(r: IncidentRecord): Draft {
    return {
      record: { ...r, topMetrics: { ...r.topMetrics } },
      allSuppressed: r.suppressed,
      ...(r.suppressedBy ? { by: r.suppressedBy } : {}),
      all: [...(r.suppressedByAll ?? (r.suppressedBy ? [r.suppressedBy] : []))],
    };
  }

  private fresh(detectorId: string, entity: string, at: number): Draft {
    const now = this.deps.now();
    return {
      record: {
        id: randomUUID(),
        detectorId,
        entity,
        state: 'firing',
        startAt: at,
        endAt: at,
        peakAt: at,
        peakScore: 0,
        severity: 'none',
        flagged: 0,
        spanRows: 0,
        topMetrics: {},
        quietRows: 0,
        recent: [],
        suppressed: false,
        createdAt: now,
        updatedAt: now,
      },
      allSuppressed: true,
      all: [],
    };
  }

  /**
   * Adds rows (from the row after the incident's last flag, or its first flag, to a flag; quiet
   * ones between included) to an incident: span, worst severity, flagged count, top metrics, and
   * the peak of the smoothed score over its flagged rows, the window continuing from `recent`
   * (`quietBefore` quiet rows already in it). A peak over a full window outranks any over the
   * incident's first rows, which a one-row blip starting it would otherwise win alone; an incident
   * shorter than the window peaks over what it has. A merge (`overlap`) may add rows the
   * incident already counted: counts then take the larger of the stored and the new, so scoring
   * the same range again changes nothing.
   */
  private extend(
    draft: Draft,
    detectorId: string,
    rows: ScoredRow[],
    recent: number[],
    quietBefore: number,
    overlap = false,
  ): void {
    if (rows.length === 0) return;
    const r = draft.record;
    const window = [...recent];
    // Whether the stored peak was taken over a full window: its last flag had one behind it.
    let fullSeen = r.spanRows >= SMOOTH_ROWS;
    let flagged = 0;
    const top: Record<string, number> = {};
    for (const row of rows) {
      window.push(row.score);
      if (window.length > SMOOTH_ROWS) window.shift();
      if (!row.anomaly) continue;
      const smoothed = window.reduce((s, v) => s + v, 0) / window.length;
      const full = window.length === SMOOTH_ROWS;
      // Above by more than rounding: a mean summed in another order is the same score.
      if ((full && !fullSeen) || ((full || !fullSeen) && smoothed > r.peakScore + 1e-12)) {
        r.peakScore = smoothed;
        r.peakAt = row.timeMs;
      }
      fullSeen ||= full;
      flagged++;
      r.severity = worse(r.severity, row.severity);
      if (row.topFeature !== undefined) top[row.topFeature] = (top[row.topFeature] ?? 0) + 1;
      const by = this.suppressedBy(detectorId, r.entity, row);
      if (!by?.length) draft.allSuppressed = false;
      else {
        draft.by ??= by[0];
        addRules(draft.all, by);
      }
    }
    r.startAt = Math.min(r.startAt, rows[0]!.timeMs);
    r.endAt = Math.max(r.endAt, rows.at(-1)!.timeMs);
    if (overlap) {
      r.flagged = Math.max(r.flagged, flagged);
      for (const [k, n] of Object.entries(top)) r.topMetrics[k] = Math.max(r.topMetrics[k] ?? 0, n);
    } else {
      r.flagged += flagged;
      r.spanRows += (r.spanRows > 0 ? quietBefore : 0) + rows.length;
      for (const [k, n] of Object.entries(top)) r.topMetrics[k] = (r.topMetrics[k] ?? 0) + n;
      r.recent = lastScores(window);
    }
  }
}

/** The scores the next rows' smoothed score continues from: a full window. */
function lastScores(scores: number[]): number[] {
  return scores.slice(-SMOOTH_ROWS);
}

/** One stored result with the label operators' verdicts give it (see `labelRows`). */
export interface LabelledRow {
  timeMs: number;
  entity: string;
  score: number;
  threshold?: number;
  anomaly: boolean;
  label: 0 | 1;
}

/**
 * Labels for `isoscope evaluate` from operators' verdicts: a row inside an incident judged `real`
 * or `expected` (an anomaly, planned or not) is 1; a row inside one judged `not_anomaly`, and
 * every row outside incidents, is 0. A row inside an incident nobody judged is left out, so it
 * counts neither as found nor as a false alarm. Rows keep their order.
 */
export function labelRows(
  rows: Array<Omit<LabelledRow, 'label'>>,
  incidents: Array<Pick<IncidentRecord, 'id' | 'entity' | 'startAt' | 'endAt'>>,
  verdicts: Map<string, string>,
): LabelledRow[] {
  const byEntity = new Map<string, typeof incidents>();
  for (const i of incidents) byEntity.set(i.entity, [...(byEntity.get(i.entity) ?? []), i]);
  const out: LabelledRow[] = [];
  for (const r of rows) {
    const inside = (byEntity.get(r.entity) ?? []).find((i) => i.startAt <= r.timeMs && r.timeMs <= i.endAt);
    if (!inside) {
      out.push({ ...r, label: 0 });
      continue;
    }
    const verdict = verdicts.get(inside.id);
    if (verdict === undefined) continue;
    out.push({ ...r, label: verdict === 'not_anomaly' ? 0 : 1 });
  }
  return out;
}

/** Labelled rows as the CSV `isoscope evaluate` reads as both --scores and --labels. */
export function labelsCsv(rows: LabelledRow[]): string {
  const lines = ['time,entity,score,threshold,is_anomaly,label'];
  for (const r of rows) {
    const entity = /[",\n]/.test(r.entity) ? `"${r.entity.replace(/"/g, '""')}"` : r.entity;
    lines.push(
      `${new Date(r.timeMs).toISOString()},${entity},${r.score},${r.threshold ?? ''},${r.anomaly ? 1 : 0},${r.label}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

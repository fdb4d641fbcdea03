/**
 * Verdicts from Grafana annotations. An operator marks a moment (or a region) on any Grafana panel
 * with an annotation tagged `isoscope:real`, `isoscope:expected` or `isoscope:not-anomaly`; Grafana
 * cannot call us, so the service polls Grafana's annotations API and records the tag as the verdict
 * of every incident the annotation overlaps, the annotation's text as the note and
 * `grafana:<login>` as who gave it.
 *
 * Which incidents: those of any detector and entity whose span [start, end] (a firing incident's
 * reaching to now) overlaps the annotation's [time, timeEnd] widened by the detector's interval
 * (an operator's click lands within a bucket of the flagged row, not on it; at most MAX_SLACK_MS).
 * Tags narrow it: `detector:<id>`, `entity:<name>` or `host:<name>` keep only those; a plain tag
 * equal to a candidate's detector or entity does the same (Isoscope's own incident annotations are
 * tagged that way, so an operator who copies their tags gets that incident only).
 *
 * The cursor: Grafana filters annotations by the time they mark, not by when they were written,
 * and an operator often marks yesterday's incident today, so a time cursor would miss them. The
 * poll reads the annotations of the last `lookbackMs` each time and the registry remembers, per
 * annotation, the version applied (Grafana's `updated`): an annotation is applied once, again
 * only when edited. One that matches no incident yet (scoring still behind) is not remembered and
 * is tried again each poll until it leaves the lookback window.
 *
 * Withdrawing: the ledger knows which verdicts each annotation gave. An edit replaces them (the
 * new tag's verdicts, on the incidents it matches now); an edit that leaves it matching no
 * incident, or with two verdict tags, withdraws them. An annotation applied before, whose span
 * lies in the window read, that Grafana no longer returns was deleted or lost its verdict tag:
 * its verdicts are withdrawn. Not when the answer was cut at POLL_LIMIT (the missing one may be
 * beyond the cut). Verdicts given in the UI or the API are never touched.
 */
import type { IncidentFeedback, IncidentRecord, IncidentStore, Verdict } from '../../io/registry/index.js';

/** The tags that carry a verdict, as operators type them in Grafana. */
export const VERDICT_TAGS: Readonly<Record<string, Verdict>> = {
  'isoscope:real': 'real',
  'isoscope:expected': 'expected',
  'isoscope:not-anomaly': 'not_anomaly',
};

/** The most an annotation is widened by on each side: a detector's interval, up to an hour. */
export const MAX_SLACK_MS = 3_600_000;

/** Annotations read per poll; more in the lookback window are left to a shorter window. */
export const POLL_LIMIT = 1000;

/** Notes longer than this are cut (the feedback API takes up to 2000 characters). */
const MAX_NOTE = 2000;

/** The fields of a Grafana annotation the poller reads. */
export interface AnnotationInput {
  id: number;
  time: number;
  timeEnd?: number;
  updated?: number;
  created?: number;
  text?: string;
  tags?: string[] | null;
  login?: string;
  userId?: number;
}

export interface AnnotationFeedbackDeps {
  incidents: Pick<
    IncidentStore,
    | 'list'
    | 'addAnnotationFeedback'
    | 'appliedAnnotations'
    | 'withdrawAnnotation'
    | 'standingAnnotations'
    | 'noteSpan'
  >;
  /** Grafana's annotations with any of `tags` whose span overlaps [from, to] (ms). */
  annotations(q: { tags: string[]; from: number; to: number; limit: number }): Promise<AnnotationInput[]>;
  /** A detector's scoring interval in ms; undefined when it is unknown (deleted, broken spec). */
  intervalMs(detectorId: string): Promise<number | undefined>;
  now(): number;
  /** How far back annotations are read each poll (ms). */
  lookbackMs: number;
  log: {
    info(detail: object, message: string): void;
    warn(detail: object, message: string): void;
  };
}

/** What one poll did, for the log and the tests. */
export interface PollOutcome {
  /** Annotations Grafana returned with a verdict tag. */
  seen: number;
  /** Annotations applied now (new, or edited since). */
  applied: number;
  /** Verdicts recorded (an annotation over several incidents gives several). */
  verdicts: number;
  /** Annotations over no incident yet: tried again next poll. */
  unmatched: number;
  /** Annotations left out for good: two different verdict tags. */
  ambiguous: number;
  /** Annotations whose verdicts were withdrawn now (deleted, untagged, or edited to mean nothing). */
  withdrawn: number;
}

export class AnnotationFeedback {
  constructor(private readonly deps: AnnotationFeedbackDeps) {}

  /**
   * One poll: reads the lookback window, applies what is new and withdraws what is gone. Throws
   * when Grafana cannot be read (then nothing is withdrawn).
   */
  async poll(): Promise<PollOutcome> {
    const now = this.deps.now();
    const from = now - this.deps.lookbackMs;
    const found = await this.deps.annotations({
      tags: Object.keys(VERDICT_TAGS),
      from,
      to: now,
      limit: POLL_LIMIT,
    });
    const outcome: PollOutcome = {
      seen: 0,
      applied: 0,
      verdicts: 0,
      unmatched: 0,
      ambiguous: 0,
      withdrawn: 0,
    };
    const withVerdict = found.filter((a) => verdictsOf(a).length > 0);
    outcome.seen = withVerdict.length;
    const applied = await this.deps.incidents.appliedAnnotations(withVerdict.map((a) => String(a.id)));
    const withdraw = async (a: AnnotationInput, why: string): Promise<void> => {
      const done = applied.get(String(a.id));
      if (!done || done.withdrawn) return;
      const verdicts = await this.deps.incidents.withdrawAnnotation(String(a.id), now);
      outcome.withdrawn++;
      this.deps.log.info(
        { annotation: a.id, verdicts },
        `verdicts of a Grafana annotation withdrawn: ${why}`,
      );
    };
    // Oldest edit first: of two annotations over one incident, the one written last is its verdict.
    withVerdict.sort((a, b) => versionOf(a) - versionOf(b) || a.id - b.id);
    for (const a of withVerdict) {
      const version = versionOf(a);
      const done = applied.get(String(a.id));
      if (done && !done.withdrawn && done.updated >= version) {
        // Applied before spans were kept: note its span, so its deletion is noticed.
        if (done.time === undefined) await this.deps.incidents.noteSpan(String(a.id), a.time, spanEnd(a));
        continue;
      }
      const verdicts = verdictsOf(a);
      if (verdicts.length > 1) {
        outcome.ambiguous++;
        this.deps.log.warn(
          { annotation: a.id, tags: a.tags },
          'Grafana annotation left out: it carries more than one verdict tag',
        );
        await withdraw(a, 'it now carries more than one verdict tag');
        continue;
      }
      const matched = await this.matches(a, now);
      if (matched.length === 0) {
        outcome.unmatched++;
        // Edited to mark a moment with no incident (yet): what it said before no longer stands.
        if (done && done.updated < version) await withdraw(a, 'edited, it marks no incident now');
        continue;
      }
      const verdict = verdicts[0]!;
      const actor = `grafana:${a.login || (a.userId !== undefined ? `user ${a.userId}` : 'unknown')}`;
      const note = (a.text ?? '').trim().slice(0, MAX_NOTE);
      const feedback: IncidentFeedback[] = matched.map((i) => ({
        incidentId: i.id,
        verdict,
        note,
        actor,
        at: now,
      }));
      const recorded = await this.deps.incidents.addAnnotationFeedback(
        {
          annotationId: String(a.id),
          updated: version,
          verdict,
          appliedAt: now,
          time: a.time,
          timeEnd: spanEnd(a),
        },
        feedback,
      );
      if (!recorded) continue;
      outcome.applied++;
      outcome.verdicts += feedback.length;
      this.deps.log.info(
        { annotation: a.id, verdict, actor, incidents: matched.map((i) => i.id) },
        'verdict recorded from a Grafana annotation',
      );
    }
    // Applied annotations in the window read that Grafana no longer returns with a verdict tag.
    if (found.length < POLL_LIMIT) {
      const returned = new Set(withVerdict.map((a) => String(a.id)));
      for (const gone of await this.deps.incidents.standingAnnotations(from, now)) {
        if (returned.has(gone.annotationId)) continue;
        const verdicts = await this.deps.incidents.withdrawAnnotation(gone.annotationId, now);
        outcome.withdrawn++;
        this.deps.log.info(
          { annotation: gone.annotationId, verdicts },
          'verdicts of a Grafana annotation withdrawn: it was deleted or lost its verdict tag',
        );
      }
    }
    return outcome;
  }

  /** The incidents an annotation is about (see the module comment). */
  private async matches(a: AnnotationInput, now: number): Promise<IncidentRecord[]> {
    const start = a.time;
    const end = a.timeEnd !== undefined && a.timeEnd > a.time ? a.timeEnd : a.time;
    const scope = scopeOf(a.tags ?? []);
    const detectors = [...scope.detectors];
    const entities = [...scope.entities];
    const near = await this.deps.incidents.list({
      ...(detectors.length === 1 ? { detectorId: detectors[0]! } : {}),
      ...(entities.length === 1 ? { entity: entities[0]! } : {}),
      from: start - MAX_SLACK_MS,
      to: end + MAX_SLACK_MS + 1,
      limit: 10_000,
    });
    const slack = new Map<string, number>();
    const candidates: IncidentRecord[] = [];
    for (const i of near) {
      if (detectors.length > 0 && !scope.detectors.has(i.detectorId)) continue;
      if (entities.length > 0 && !scope.entities.has(i.entity)) continue;
      if (!slack.has(i.detectorId)) {
        const step = await this.deps.intervalMs(i.detectorId);
        slack.set(i.detectorId, Math.min(step ?? 0, MAX_SLACK_MS));
      }
      const s = slack.get(i.detectorId)!;
      const until = i.state === 'firing' ? Math.max(i.endAt, now) : i.endAt;
      if (i.startAt - s <= end && start <= until + s) candidates.push(i);
    }
    // Plain tags naming a candidate's detector or entity narrow to those.
    const byDetector = candidates.filter((i) => scope.plain.has(i.detectorId));
    const narrowed = byDetector.length > 0 ? byDetector : candidates;
    const byEntity = narrowed.filter((i) => i.entity !== '' && scope.plain.has(i.entity));
    return byEntity.length > 0 ? byEntity : narrowed;
  }
}

/** The distinct verdicts an annotation's tags carry (tags compared without case). */
export function verdictsOf(a: Pick<AnnotationInput, 'tags'>): Verdict[] {
  const out = new Set<Verdict>();
  for (const t of a.tags ?? []) {
    const v = VERDICT_TAGS[t.trim().toLowerCase()];
    if (v) out.add(v);
  }
  return [...out];
}

/** Where an annotation's span ends: its `timeEnd`, or its time for a point. */
function spanEnd(a: AnnotationInput): number {
  return a.timeEnd !== undefined && a.timeEnd > a.time ? a.timeEnd : a.time;
}

/** The version of an annotation: its last edit, else its creation, else the time it marks. */
function versionOf(a: AnnotationInput): number {
  return a.updated || a.created || a.time;
}

/** `detector:x`, `entity:x` / `host:x`, and the plain tags (neither those nor a verdict). */
function scopeOf(tags: string[]): { detectors: Set<string>; entities: Set<string>; plain: Set<string> } {
  const detectors = new Set<string>();
  const entities = new Set<string>();
  const plain = new Set<string>();
  for (const raw of tags) {
    const t = raw.trim();
    const m = /^(detector|entity|host):(.+)$/i.exec(t);
    if (m) (m[1]!.toLowerCase() === 'detector' ? detectors : entities).add(m[2]!.trim());
    else if (!VERDICT_TAGS[t.toLowerCase()]) plain.add(t);
  }
  return { detectors, entities, plain };
}

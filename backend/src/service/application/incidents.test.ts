import { EPISODE_GAP, episodesOf } from '../../engine/index.js';
import {
  SqliteRegistry,
  type IncidentRecord,
  type SuppressedBy,
  type SuppressionRule,
} from '../../io/registry/index.js';
import { suppresses } from '../domain/suppression.js';
import { Incidents, labelRows, labelsCsv, SMOOTH_ROWS, type FlaggedRow } from './incidents.js';
import type { ScoredRow } from './runtime.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

/** Rows of one entity, one a minute: `x` flagged, `.` quiet; scores and severities by row when given. */
function rows(
  pattern: string,
  opts: {
    entity?: string;
    score?: (i: number) => number;
    severity?: (i: number) => string;
    top?: (i: number) => string;
  } = {},
): ScoredRow[] {
  return [...pattern].map((c, i) => {
    const anomaly = c === 'x';
    return {
      entity: opts.entity ?? 'web-1',
      timeMs: T0 + i * MIN,
      score: opts.score?.(i) ?? (anomaly ? 0.7 : 0.3),
      threshold: 0.5,
      anomaly,
      severity: anomaly ? (opts.severity?.(i) ?? 'low') : 'none',
      ...(anomaly ? { topFeature: opts.top?.(i) ?? 'usage_user' } : {}),
      modelVersion: 1,
      retrain: 1,
      stage: 'production',
      extra: {},
    };
  });
}

async function setup(suppressed?: (row: ScoredRow) => SuppressedBy | undefined) {
  const registry = new SqliteRegistry(':memory:');
  await registry.detectors.create({ id: 'cpu', name: 'cpu', spec: {} }, 0);
  let clock = T0;
  const changes: IncidentRecord[][] = [];
  const incidents = new Incidents({
    registry,
    now: () => clock++,
    ...(suppressed
      ? {
          suppression: async () => (_d: string, _e: string, r: FlaggedRow) => {
            const by = suppressed(r as ScoredRow);
            return by ? [by] : undefined;
          },
        }
      : {}),
    onChange: async (c) => void changes.push(c),
  });
  const stored = async () => (await registry.incidents.list({ detectorId: 'cpu' })).reverse();
  return { registry, incidents, stored, changes };
}

/** What an incident says, without its id and bookkeeping times. */
const gist = (i: IncidentRecord) => {
  const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = i;
  return rest;
};

const live = { live: true, stepMs: MIN };

describe('Incidents (SQLite in memory)', () => {
  it('groups flags as episodesOf does: fewer than EPISODE_GAP rows apart is one incident', async () => {
    const { incidents, stored, registry } = await setup();
    const pattern = '..xxx.......x.................x.....';
    await incidents.record('cpu', rows(pattern), live);
    const got = await stored();
    const flags = [...pattern].map((c) => c === 'x');
    expect(episodesOf(flags)).toEqual([
      [2, 12],
      [30, 30],
    ]);
    expect(got.map((i) => [(i.startAt - T0) / MIN, (i.endAt - T0) / MIN, i.flagged, i.spanRows])).toEqual([
      [2, 12, 4, 11],
      [30, 30, 1, 1],
    ]);
    // The first is over; the second has only 5 quiet rows behind it, so it still fires.
    expect(got.map((i) => [i.state, i.quietRows])).toEqual([
      ['resolved', EPISODE_GAP],
      ['firing', 5],
    ]);
    await registry.close();
  });

  it('resolves a firing incident after EPISODE_GAP quiet rows, across intervals', async () => {
    const { incidents, stored, registry } = await setup();
    const all = rows('xx' + '.'.repeat(EPISODE_GAP));
    await incidents.record('cpu', all.slice(0, 2 + EPISODE_GAP - 1), live);
    expect((await stored()).map((i) => [i.state, i.quietRows])).toEqual([['firing', EPISODE_GAP - 1]]);
    await incidents.record('cpu', all.slice(2 + EPISODE_GAP - 1), live);
    expect((await stored()).map((i) => [i.state, i.quietRows, i.recent])).toEqual([
      ['resolved', EPISODE_GAP, []],
    ]);
    // A flag after the gap opens a new incident instead of reopening the old one.
    await incidents.record(
      'cpu',
      rows('x').map((r) => ({ ...r, timeMs: T0 + 30 * MIN })),
      live,
    );
    expect((await stored()).map((i) => i.state)).toEqual(['resolved', 'firing']);
    await registry.close();
  });

  it('gives the same incidents whether the rows come in one batch or interval by interval', async () => {
    // A pattern from a fixed formula: bursts, isolated blips, gaps just under and over the rule.
    const pattern = [...Array(400).keys()]
      .map((i) => {
        const x = Math.sin(i * 12.9898) * 43758.5453;
        return x - Math.floor(x) > (i % 90 < 25 ? 0.4 : 0.97) ? 'x' : '.';
      })
      .join('');
    const score = (i: number) => {
      const x = Math.sin(i * 78.233) * 12345.678;
      return 0.3 + 0.6 * (x - Math.floor(x));
    };
    const severity = (i: number) => ['low', 'medium', 'high', 'critical'][i % 4]!;
    const top = (i: number) => (i % 3 ? 'usage_user' : 'usage_system');
    const data = [
      ...rows(pattern, { score, severity, top }),
      ...rows(pattern.slice(7) + '.......', { entity: 'web-2', score, top }),
    ].sort((a, b) => a.timeMs - b.timeMs);
    const once = await setup();
    await once.incidents.record('cpu', data, live);
    const expected = (await once.stored()).map(gist);
    expect(expected.length).toBeGreaterThan(5);
    for (const sizes of [[1], [7, 1, 30], [13, 250, 2]]) {
      const steps = await setup();
      let at = 0;
      for (let k = 0; at < 400; k++) {
        const n = sizes[k % sizes.length]!;
        await steps.incidents.record(
          'cpu',
          data.filter((r) => r.timeMs >= T0 + at * MIN && r.timeMs < T0 + (at + n) * MIN),
          live,
        );
        at += n;
      }
      const got = (await steps.stored()).map(gist);
      // Same order: by start, then entity.
      const order = (l: ReturnType<typeof gist>[]) =>
        [...l].sort((a, b) => a.startAt - b.startAt || a.entity.localeCompare(b.entity));
      expect(order(got)).toEqual(order(expected));
      await steps.registry.close();
    }
    await once.registry.close();
  });

  it('peaks where the smoothed score peaks, not at a one-row blip; keeps the worst severity and counts top metrics', async () => {
    const { incidents, stored, registry } = await setup();
    // A blip of 0.95 opens the incident; a sustained stretch at 0.8 follows.
    const pattern = 'x..xxxxxxxxxx';
    const score = (i: number) => (i === 0 ? 0.95 : i < 3 ? 0.3 : i === 8 ? 0.85 : 0.8);
    const severity = (i: number) => (i === 5 ? 'critical' : 'medium');
    const top = (i: number) => (i < 6 ? 'usage_user' : 'usage_iowait');
    await incidents.record('cpu', rows(pattern, { score, severity, top }), live);
    const [incident] = await stored();
    // The first full window over the stretch (rows 3..7 ending at 7) is 0.8; windows holding row 8 are 0.81.
    expect((incident!.peakAt - T0) / MIN).toBe(8);
    expect(incident!.peakScore).toBeCloseTo((0.8 * (SMOOTH_ROWS - 1) + 0.85) / SMOOTH_ROWS, 12);
    expect(incident!.severity).toBe('critical');
    expect(incident!.topMetrics).toEqual({ usage_user: 4, usage_iowait: 7 });

    // An incident shorter than the window peaks over the rows it has.
    await incidents.record('cpu', rows('x.x', { entity: 'web-2', score: (i) => [0.6, 0.3, 0.9][i]! }), live);
    const short = (await stored()).find((i) => i.entity === 'web-2')!;
    expect(short.peakScore).toBeCloseTo(0.6, 12);
    expect((short.peakAt - T0) / MIN).toBe(0);
    await registry.close();
  });

  it('merges a backfill into the incidents it touches: scoring a range twice adds nothing', async () => {
    const { incidents, stored, registry } = await setup();
    const pattern = '..xxx.......x..........xx....';
    const past = { live: false, stepMs: MIN };
    await incidents.record('cpu', rows(pattern), past);
    const first = await stored();
    expect(first.map((i) => [(i.startAt - T0) / MIN, (i.endAt - T0) / MIN, i.state])).toEqual([
      [2, 12, 'resolved'],
      [23, 24, 'resolved'],
    ]);
    await incidents.record('cpu', rows(pattern), past);
    await incidents.record('cpu', rows(pattern).slice(10), past);
    expect(await stored()).toEqual(first.map((i) => ({ ...i, updatedAt: expect.any(Number) })));
    // A backfill that reaches further widens the incident it continues.
    await incidents.record('cpu', rows(pattern + '...x'), past);
    const widened = await stored();
    expect(widened.map((i) => [(i.startAt - T0) / MIN, (i.endAt - T0) / MIN, i.flagged])).toEqual([
      [2, 12, 4],
      [23, 32, 3],
    ]);
    await registry.close();
  });

  it('marks an incident suppressed only when every flagged row falls inside a rule', async () => {
    const rule = { ruleId: 'r1', reason: 'batch' };
    const inside = (r: ScoredRow) => (r.timeMs < T0 + 20 * MIN ? rule : undefined);
    const { incidents, stored, registry } = await setup(inside);
    await incidents.record('cpu', rows('xx...................x.x'), live);
    expect((await stored()).map((i) => i.suppressed)).toEqual([true, false]);
    // A flag outside the rule joining a suppressed incident makes it page.
    const { incidents: b, stored: storedB, registry: rb } = await setup(inside);
    await b.record('cpu', rows('..............xx'), live);
    expect((await storedB()).map((i) => i.suppressed)).toEqual([true]);
    await b.record('cpu', rows('..............xx.....x').slice(16), live);
    expect((await storedB()).map((i) => [i.suppressed, i.flagged])).toEqual([[false, 3]]);
    await registry.close();
    await rb.close();
  });

  it('names the rule that held the first flag of a suppressed incident, across intervals, and drops it once the incident pages', async () => {
    const backup = { ruleId: 'r-backup', reason: 'nightly backup' };
    const deploy = { ruleId: 'r-deploy', reason: 'deploy window' };
    // Minutes 0-9 under the backup rule, 10-19 under the deploy rule, none after.
    const rule = (r: ScoredRow) => {
      const m = (r.timeMs - T0) / MIN;
      return m < 10 ? backup : m < 20 ? deploy : undefined;
    };
    const { incidents, stored, registry, changes } = await setup(rule);
    const all = rows('........xx..xx......x');
    await incidents.record('cpu', all.slice(0, 12), live);
    expect((await stored()).map((i) => [i.suppressed, i.suppressedBy])).toEqual([[true, backup]]);
    expect(changes.at(-1)?.[0]?.suppressedBy).toEqual(backup);
    // The next interval's flags fall under the other rule: the incident keeps the first.
    await incidents.record('cpu', all.slice(12, 20), live);
    expect((await stored()).map((i) => [i.suppressed, i.flagged, i.suppressedBy])).toEqual([
      [true, 4, backup],
    ]);
    // A flag under no rule: the incident paged, and no rule is named for it.
    await incidents.record('cpu', all.slice(20), live);
    const [paged] = await stored();
    expect([paged!.suppressed, paged!.flagged]).toEqual([false, 5]);
    expect(paged).not.toHaveProperty('suppressedBy');
    // A backfill of the deploy window alone makes a resolved incident named by its rule.
    const b = await setup(rule);
    await b.incidents.record('cpu', rows('..........xx'), { live: false, stepMs: MIN });
    expect((await b.stored()).map((i) => [i.state, i.suppressedBy])).toEqual([['resolved', deploy]]);
    // Not suppressed at all: nothing named.
    const c = await setup(() => undefined);
    await c.incidents.record('cpu', rows('xx'), live);
    expect(await c.stored()).toEqual([expect.not.objectContaining({ suppressedBy: expect.anything() })]);
    await Promise.all([registry.close(), b.registry.close(), c.registry.close()]);
  });

  it('keeps every rule that covered part of a suppressed incident, and drops them all once it pages', async () => {
    const backup = { ruleId: 'r-backup', reason: 'nightly backup' };
    const deploy = { ruleId: 'r-deploy', reason: 'deploy window' };
    const rule = (r: ScoredRow) => {
      const m = (r.timeMs - T0) / MIN;
      return m < 10 ? backup : m < 20 ? deploy : undefined;
    };
    const { incidents, stored, registry, changes } = await setup(rule);
    const all = rows('........xx..xx......x');
    await incidents.record('cpu', all.slice(0, 16), live);
    const [quiet] = await stored();
    expect([quiet!.suppressed, quiet!.suppressedBy, quiet!.suppressedByAll]).toEqual([
      true,
      backup,
      [backup, deploy],
    ]);
    expect(changes.at(-1)?.[0]?.suppressedByAll).toEqual([backup, deploy]);
    await incidents.record('cpu', all.slice(16), live);
    const [paged] = await stored();
    expect(paged!.suppressed).toBe(false);
    expect(paged).not.toHaveProperty('suppressedByAll');
    await registry.close();
  });

  describe('a rule applied to incidents already recorded', () => {
    const ruleAt = (
      id: string,
      fromMin: number,
      toMin: number,
      more: Partial<SuppressionRule> = {},
    ): SuppressionRule => ({
      id,
      detectorId: 'cpu',
      kind: 'period',
      start: T0 + fromMin * MIN,
      end: T0 + toMin * MIN,
      reason: `reason of ${id}`,
      actor: 'ann',
      createdAt: 0,
      ...more,
    });
    const by = (r: SuppressionRule) => ({ ruleId: r.id, reason: r.reason });

    /** Incidents recorded live with `standing` as the rules, then a rule applied with these deps. */
    async function applying(pattern: string, standing: SuppressionRule[] = [], web2 = '') {
      const registry = new SqliteRegistry(':memory:');
      await registry.detectors.create({ id: 'cpu', name: 'cpu', spec: {} }, 0);
      const top = (i: number) => (i % 2 ? 'usage_user' : 'usage_system');
      const scored = [...rows(pattern, { top }), ...rows(web2, { entity: 'web-2', top })];
      const rules = [...standing];
      const log: string[] = [];
      const quietened: IncidentRecord[][] = [];
      const changes: IncidentRecord[][] = [];
      const incidents = new Incidents({
        registry,
        now: () => T0 + 99 * MIN,
        suppression: async () => (d, e, row) => {
          const held = rules.filter((r) => suppresses(r, d, e, row)).map(by);
          return held.length > 0 ? held : undefined;
        },
        flaggedRows: async (_d, entity, from, to) => {
          log.push(`read ${entity} ${(from - T0) / MIN}-${(to - T0 - 1) / MIN}`);
          return scored.filter((r) => r.anomaly && r.entity === entity && r.timeMs >= from && r.timeMs < to);
        },
        onSuppressed: async (list) => void quietened.push(list),
        onChange: async (list) => void changes.push(list),
      });
      await incidents.record('cpu', scored, live);
      const stored = async () => (await registry.incidents.list({ detectorId: 'cpu' })).reverse();
      return { registry, incidents, stored, log, quietened, changes, rules };
    }

    it('suppresses the incidents whose every flagged row it covers since the given time, firing ones included, and resolves their alerts', async () => {
      // An incident at minutes 2-4 (resolved) and one at 28-29 (still firing).
      const t = await applying('..xxx.......................xx');
      expect((await t.stored()).map((i) => [i.state, i.suppressed])).toEqual([
        ['resolved', false],
        ['firing', false],
      ]);
      const rule = ruleAt('maintenance', 0, 40);
      const { changed, suppressed } = await t.incidents.applyRule(rule, T0, async () => {
        t.log.push('store');
        t.rules.push(rule);
      });
      expect(changed).toHaveLength(2);
      expect(suppressed).toEqual(changed);
      // Every read before the rule is stored, and no incident changed before it.
      expect(t.log.at(-1)).toBe('store');
      expect(t.log.slice(0, -1)).toEqual(['read web-1 2-29']);
      expect((await t.stored()).map((i) => [i.suppressed, i.suppressedBy, i.suppressedByAll])).toEqual([
        [true, by(rule), [by(rule)]],
        [true, by(rule), [by(rule)]],
      ]);
      // Only the firing one had an alert to end; annotations are rewritten for both.
      expect(t.quietened.map((l) => l.map((i) => i.state))).toEqual([['firing']]);
      expect(t.changes.at(-1)!.map((i) => i.suppressed)).toEqual([true, true]);
      // Applying it again changes nothing.
      expect((await t.incidents.applyRule(rule, T0)).changed).toEqual([]);
      await t.registry.close();
    });

    it("reads each entity's flagged rows once, however many incidents it has, and judges each incident by its own rows", async () => {
      // web-1: incidents at 2-4, 19-20 and 35-37; web-2: one at 4-5.
      const t = await applying('..xxx..............xx..............xxx', [], '....xx');
      const rule = ruleAt('morning', 0, 36, { detectorId: 'cpu' });
      const { changed } = await t.incidents.applyRule(rule, T0);
      expect(t.log.sort()).toEqual(['read web-1 2-37', 'read web-2 4-5']);
      // 35-37 was read with the others and judged by its own rows: the rule ends before its last two.
      expect(changed.map((i) => `${i.entity}@${(i.startAt - T0) / MIN}`).sort()).toEqual([
        'web-1@19',
        'web-1@2',
        'web-2@4',
      ]);
      await t.registry.close();
    });

    it('leaves alone what it does not wholly cover, what ended before the time, and other metrics', async () => {
      const t = await applying('..xxx.......................xx');
      // Covers minutes 0-3: two of the first incident's three flags.
      expect((await t.incidents.applyRule(ruleAt('part', 0, 4), T0)).changed).toEqual([]);
      // Since minute 10: the first incident ended before.
      const late = ruleAt('late', 0, 40);
      expect(
        (await t.incidents.applyRule(late, T0 + 10 * MIN)).changed.map((i) => (i.startAt - T0) / MIN),
      ).toEqual([28]);
      expect((await t.stored()).map((i) => i.suppressed)).toEqual([false, true]);
      // A metric none of the first incident's rows was topped by; another entity.
      expect(
        (await t.incidents.applyRule(ruleAt('mem', 0, 40, { metric: 'used_percent' }), T0)).changed,
      ).toEqual([]);
      expect((await t.incidents.applyRule(ruleAt('web-2', 0, 40, { entity: 'web-2' }), T0)).changed).toEqual(
        [],
      );
      expect((await t.stored()).map((i) => i.suppressed)).toEqual([false, true]);
      await t.registry.close();
    });

    it('suppresses an incident that it and the standing rules cover together, naming them all; adds itself to one suppressed already', async () => {
      // The standing rule covers minutes 0-3, the new one minute 4 onwards.
      const standing = ruleAt('backup', 0, 4, { createdAt: -1 });
      const t = await applying('..xxx....', [standing]);
      expect((await t.stored()).map((i) => i.suppressed)).toEqual([false]);
      const rest = ruleAt('deploy', 4, 10);
      await t.incidents.applyRule(rest, T0);
      const [both] = await t.stored();
      expect([both!.suppressed, both!.suppressedBy, both!.suppressedByAll]).toEqual([
        true,
        by(standing),
        [by(standing), by(rest)],
      ]);
      // A third rule holding one of its rows joins the list; the first named stays.
      const wide = ruleAt('wide', 0, 60);
      const added = await t.incidents.applyRule(wide, T0);
      expect(added.suppressed).toEqual([]);
      const [widened] = added.changed;
      expect([widened!.suppressedBy, widened!.suppressedByAll]).toEqual([
        by(standing),
        [by(standing), by(rest), by(wide)],
      ]);
      // Its alert ended when it became suppressed, not again when a rule joined.
      expect(t.quietened.map((l) => l.map((i) => i.id))).toEqual([[both!.id]]);
      await t.registry.close();
    });
  });

  it('labels rows by verdict: real and expected are anomalies, not_anomaly and outside are normal, unjudged rows left out', () => {
    const row = (entity: string, m: number) => ({
      timeMs: T0 + m * MIN,
      entity,
      score: 0.6,
      threshold: 0.5,
      anomaly: true,
    });
    const incidents = [
      { id: 'a', entity: 'web-1', startAt: T0 + 1 * MIN, endAt: T0 + 2 * MIN },
      { id: 'b', entity: 'web-1', startAt: T0 + 4 * MIN, endAt: T0 + 4 * MIN },
      { id: 'c', entity: 'web-2', startAt: T0, endAt: T0 + 9 * MIN },
      { id: 'd', entity: 'web-1', startAt: T0 + 6 * MIN, endAt: T0 + 6 * MIN },
    ];
    const verdicts = new Map([
      ['a', 'real'],
      ['b', 'not_anomaly'],
      ['d', 'expected'],
    ]);
    const rows = [0, 1, 2, 3, 4, 5, 6]
      .map((m) => row('web-1', m))
      .concat([row('web-2', 3), row('web, "x"', 3)]);
    const labelled = labelRows(rows, incidents, verdicts);
    expect(labelled.map((r) => `${r.entity}@${(r.timeMs - T0) / MIN}=${r.label}`)).toEqual([
      'web-1@0=0',
      'web-1@1=1',
      'web-1@2=1',
      'web-1@3=0',
      'web-1@4=0',
      'web-1@5=0',
      'web-1@6=1',
      'web, "x"@3=0',
    ]);
    const csv = labelsCsv(labelled).split('\n');
    expect(csv[0]).toBe('time,entity,score,threshold,is_anomaly,label');
    expect(csv[2]).toBe('2026-01-01T00:01:00.000Z,web-1,0.6,0.5,1,1');
    expect(csv[8]).toBe('2026-01-01T00:03:00.000Z,"web, ""x""",0.6,0.5,1,0');
  });
});

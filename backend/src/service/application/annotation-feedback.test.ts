import type {
  AnnotationSource,
  AppliedAnnotation,
  IncidentFeedback,
  IncidentQuery,
  IncidentRecord,
} from '../../io/registry/index.js';
import { AnnotationFeedback, type AnnotationInput } from './annotation-feedback.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 1, 12);

function incident(
  id: string,
  detectorId: string,
  entity: string,
  startAt: number,
  endAt: number,
): IncidentRecord {
  return {
    id,
    detectorId,
    entity,
    state: 'resolved',
    startAt,
    endAt,
    peakAt: startAt,
    peakScore: 0.7,
    severity: 'high',
    flagged: 3,
    spanRows: 5,
    topMetrics: {},
    quietRows: 10,
    recent: [],
    suppressed: false,
    createdAt: 0,
    updatedAt: 0,
  };
}

/** The incidents store's part the poller uses, in memory, with the registry's semantics. */
function fakeIncidents(records: IncidentRecord[]) {
  const ledger = new Map<string, AppliedAnnotation>();
  const rows: Array<{ f: IncidentFeedback; annotationId: string; withdrawn: boolean }> = [];
  const withdraw = (id: string): number => {
    const standing = rows.filter((r) => r.annotationId === id && !r.withdrawn);
    standing.forEach((r) => (r.withdrawn = true));
    return standing.length;
  };
  return {
    /** The standing verdicts, oldest first. */
    get feedback(): IncidentFeedback[] {
      return rows.filter((r) => !r.withdrawn).map((r) => r.f);
    },
    ledger,
    async list(q: IncidentQuery = {}) {
      return records.filter(
        (i) =>
          (q.detectorId === undefined || i.detectorId === q.detectorId) &&
          (q.entity === undefined || i.entity === q.entity) &&
          (q.from === undefined || i.endAt >= q.from) &&
          (q.to === undefined || i.startAt < q.to),
      );
    },
    async appliedAnnotations(ids: string[]) {
      return new Map(ids.filter((id) => ledger.has(id)).map((id) => [id, { ...ledger.get(id)! }]));
    },
    async addAnnotationFeedback(source: AnnotationSource, f: IncidentFeedback[]) {
      const done = ledger.get(source.annotationId);
      if (done && !done.withdrawn && done.updated >= source.updated) return false;
      ledger.set(source.annotationId, {
        annotationId: source.annotationId,
        updated: source.updated,
        time: source.time,
        timeEnd: source.timeEnd,
        withdrawn: false,
      });
      withdraw(source.annotationId);
      rows.push(...f.map((x) => ({ f: x, annotationId: source.annotationId, withdrawn: false })));
      return true;
    },
    async withdrawAnnotation(id: string) {
      const done = ledger.get(id);
      if (done) done.withdrawn = true;
      return withdraw(id);
    },
    async standingAnnotations(from: number, to: number) {
      return [...ledger.values()].filter(
        (a) => !a.withdrawn && a.time !== undefined && a.time <= to && a.timeEnd! >= from,
      );
    },
    async noteSpan(id: string, time: number, timeEnd: number) {
      const done = ledger.get(id);
      if (done && done.time === undefined) Object.assign(done, { time, timeEnd });
    },
  };
}

function setup(records: IncidentRecord[], annotations: AnnotationInput[]) {
  const incidents = fakeIncidents(records);
  const asked: Array<{ tags: string[]; from: number; to: number }> = [];
  const warnings: string[] = [];
  const clock = { now: NOW };
  const poller = new AnnotationFeedback({
    incidents,
    // As Grafana answers: spans overlapping the window, any of the tags, at most `limit`.
    annotations: async (q) => {
      asked.push(q);
      return annotations
        .filter(
          (a) => a.time <= q.to && (a.timeEnd ?? a.time) >= q.from && a.tags?.some((t) => q.tags.includes(t)),
        )
        .slice(0, q.limit);
    },
    intervalMs: async (id) => (id === 'cpu' ? MIN : id === 'disk' ? 5 * MIN : undefined),
    now: () => clock.now,
    lookbackMs: 24 * 60 * MIN,
    log: { info: () => {}, warn: (_d, m) => warnings.push(m) },
  });
  return { poller, incidents, asked, warnings, clock };
}

describe('AnnotationFeedback', () => {
  const records = [
    incident('cpu-web1', 'cpu', 'web-1', NOW - 60 * MIN, NOW - 40 * MIN),
    incident('cpu-web2', 'cpu', 'web-2', NOW - 55 * MIN, NOW - 50 * MIN),
    incident('disk-web1', 'disk', 'web-1', NOW - 45 * MIN, NOW - 44 * MIN),
    incident('cpu-old', 'cpu', 'web-1', NOW - 600 * MIN, NOW - 590 * MIN),
  ];

  it('asks Grafana for any verdict tag over the lookback window', async () => {
    const { poller, asked } = setup(records, []);
    expect(await poller.poll()).toEqual({
      seen: 0,
      applied: 0,
      verdicts: 0,
      unmatched: 0,
      ambiguous: 0,
      withdrawn: 0,
    });
    expect(asked).toEqual([
      {
        tags: ['isoscope:real', 'isoscope:expected', 'isoscope:not-anomaly'],
        from: NOW - 24 * 60 * MIN,
        to: NOW,
        limit: 1000,
      },
    ]);
  });

  it('marks every incident the annotation overlaps without scope tags, with its text and author', async () => {
    const { poller, incidents } = setup(records, [
      {
        id: 7,
        time: NOW - 52 * MIN,
        updated: NOW - MIN,
        text: ' deploy went wrong ',
        tags: ['isoscope:real'],
        login: 'ann',
      },
    ]);
    expect(await poller.poll()).toMatchObject({ seen: 1, applied: 1, verdicts: 2 });
    expect(incidents.feedback).toEqual(
      ['cpu-web1', 'cpu-web2'].map((incidentId) => ({
        incidentId,
        verdict: 'real',
        note: 'deploy went wrong',
        actor: 'grafana:ann',
        at: NOW,
      })),
    );
    expect(incidents.ledger).toEqual(
      new Map([
        [
          '7',
          {
            annotationId: '7',
            updated: NOW - MIN,
            time: NOW - 52 * MIN,
            timeEnd: NOW - 52 * MIN,
            withdrawn: false,
          },
        ],
      ]),
    );
  });

  it('narrows by detector:, entity: and host: tags, and by plain tags naming a detector or entity', async () => {
    const region = { time: NOW - 58 * MIN, timeEnd: NOW - 43 * MIN, updated: NOW - MIN };
    const cases: Array<[string[], string[]]> = [
      [['isoscope:not-anomaly'], ['cpu-web1', 'cpu-web2', 'disk-web1']],
      [
        ['isoscope:not-anomaly', 'entity:web-1'],
        ['cpu-web1', 'disk-web1'],
      ],
      [['isoscope:not-anomaly', 'host:web-2'], ['cpu-web2']],
      [['isoscope:not-anomaly', 'detector:disk'], ['disk-web1']],
      [
        ['isoscope:not-anomaly', 'detector:cpu', 'entity:web-1', 'entity:web-2'],
        ['cpu-web1', 'cpu-web2'],
      ],
      // Isoscope's own incident annotation's tags, copied: that detector and entity only.
      [['isoscope:not-anomaly', 'isoscope', 'incident', 'cpu', 'web-2', 'high', 'resolved'], ['cpu-web2']],
      // A plain tag naming nothing near does not narrow.
      [
        ['isoscope:not-anomaly', 'deploy'],
        ['cpu-web1', 'cpu-web2', 'disk-web1'],
      ],
      [['isoscope:not-anomaly', 'entity:db-1'], []],
    ];
    for (const [tags, expected] of cases) {
      const { poller, incidents } = setup(records, [{ id: 1, ...region, tags }]);
      await poller.poll();
      expect([tags, incidents.feedback.map((f) => f.incidentId).sort()]).toEqual([tags, expected]);
    }
  });

  it("widens a point annotation by the detector's interval, and reaches a firing incident to now", async () => {
    const firing = {
      ...incident('firing', 'cpu', 'db-1', NOW - 30 * MIN, NOW - 20 * MIN),
      state: 'firing' as const,
    };
    const { poller, incidents } = setup(
      [...records, firing],
      [
        // One cpu interval after cpu-web1's end: its flagged row's bucket.
        { id: 1, time: NOW - 39 * MIN, updated: 1, tags: ['isoscope:expected', 'detector:cpu'] },
        // Beyond it: nothing.
        { id: 2, time: NOW - 38.5 * MIN, updated: 1, tags: ['isoscope:expected', 'detector:cpu'] },
        // Four minutes after disk-web1's end: within one of its 5-minute buckets.
        { id: 3, time: NOW - 40 * MIN, updated: 1, tags: ['isoscope:expected', 'detector:disk'] },
        // After the firing incident's last flag so far, before now.
        { id: 4, time: NOW - 5 * MIN, updated: 1, tags: ['isoscope:real'] },
      ],
    );
    expect(await poller.poll()).toMatchObject({ applied: 3, unmatched: 1 });
    expect(incidents.feedback.map((f) => f.incidentId)).toEqual(['cpu-web1', 'disk-web1', 'firing']);
  });

  it('applies an annotation once, again when edited, and tries an unmatched one until an incident is there', async () => {
    const annotations: AnnotationInput[] = [
      {
        id: 1,
        time: NOW - 50 * MIN,
        updated: NOW - 10 * MIN,
        tags: ['isoscope:real', 'entity:web-2'],
        login: 'ann',
      },
      { id: 2, time: NOW - 2 * MIN, updated: NOW - 2 * MIN, tags: ['isoscope:real'], login: 'bob' },
    ];
    const list = [...records];
    const { poller, incidents } = setup(list, annotations);
    expect(await poller.poll()).toMatchObject({ seen: 2, applied: 1, unmatched: 1 });
    expect(await poller.poll()).toMatchObject({ seen: 2, applied: 0, unmatched: 1 });
    expect(incidents.feedback).toHaveLength(1);
    // Scoring catches up: the moment bob marked is an incident now.
    list.push(incident('late', 'cpu', 'db-1', NOW - 3 * MIN, NOW - MIN));
    expect(await poller.poll()).toMatchObject({ applied: 1, unmatched: 0 });
    // Ann changes her mind: the edit is a new version, whose verdict replaces the one it gave.
    annotations[0] = {
      ...annotations[0]!,
      updated: NOW - MIN,
      tags: ['isoscope:not-anomaly', 'entity:web-2'],
    };
    expect(await poller.poll()).toMatchObject({ applied: 1, verdicts: 1 });
    expect(await poller.poll()).toMatchObject({ applied: 0, withdrawn: 0 });
    expect(incidents.feedback.map((f) => [f.incidentId, f.verdict, f.actor])).toEqual([
      ['late', 'real', 'grafana:bob'],
      ['cpu-web2', 'not_anomaly', 'grafana:ann'],
    ]);
  });

  it('withdraws the verdicts of an annotation deleted in Grafana, or whose verdict tag was removed, on the next poll', async () => {
    const annotations: AnnotationInput[] = [
      { id: 1, time: NOW - 50 * MIN, updated: 10, tags: ['isoscope:real', 'host:web-2'], login: 'ann' },
      {
        id: 2,
        time: NOW - 42 * MIN,
        timeEnd: NOW - 41 * MIN,
        updated: 10,
        tags: ['isoscope:expected', 'detector:disk'],
      },
    ];
    const { poller, incidents } = setup(records, annotations);
    expect(await poller.poll()).toMatchObject({ applied: 2, withdrawn: 0 });
    expect(incidents.feedback.map((f) => f.incidentId)).toEqual(['cpu-web2', 'disk-web1']);
    // 1 deleted; 2's verdict tag removed (Grafana no longer finds it by the verdict tags).
    annotations.splice(0, 1);
    annotations[0] = { ...annotations[0]!, updated: 20, tags: ['detector:disk', 'looked fine'] };
    expect(await poller.poll()).toMatchObject({ applied: 0, withdrawn: 2 });
    expect(incidents.feedback).toEqual([]);
    expect(await poller.poll()).toMatchObject({ withdrawn: 0 });
    // Tagged again: applied again.
    annotations[0] = { ...annotations[0]!, updated: 30, tags: ['isoscope:real', 'detector:disk'] };
    expect(await poller.poll()).toMatchObject({ applied: 1, withdrawn: 0 });
    expect(incidents.feedback.map((f) => [f.incidentId, f.verdict])).toEqual([['disk-web1', 'real']]);
  });

  it('withdraws what an edit leaves meaning nothing: two verdict tags, or no incident under it', async () => {
    const annotations: AnnotationInput[] = [
      { id: 1, time: NOW - 50 * MIN, updated: 10, tags: ['isoscope:real', 'host:web-2'] },
      {
        id: 2,
        time: NOW - 59 * MIN,
        updated: 10,
        tags: ['isoscope:not-anomaly', 'host:web-1', 'detector:cpu'],
      },
    ];
    const { poller, incidents } = setup(records, annotations);
    await poller.poll();
    expect(incidents.feedback.map((f) => f.incidentId)).toEqual(['cpu-web2', 'cpu-web1']);
    annotations[0] = {
      ...annotations[0]!,
      updated: 20,
      tags: ['isoscope:real', 'isoscope:expected', 'host:web-2'],
    };
    annotations[1] = { ...annotations[1]!, updated: 20, time: NOW - 300 * MIN };
    expect(await poller.poll()).toMatchObject({ ambiguous: 1, unmatched: 1, withdrawn: 2 });
    expect(incidents.feedback).toEqual([]);
    // The same versions next poll: nothing more to withdraw.
    expect(await poller.poll()).toMatchObject({ withdrawn: 0 });
  });

  it('does not take an annotation for deleted when it is outside the window read, or when the answer was cut', async () => {
    const annotations: AnnotationInput[] = [
      { id: 1, time: NOW - 50 * MIN, updated: 10, tags: ['isoscope:real', 'host:web-2'] },
    ];
    const { poller, incidents, clock } = setup(records, annotations);
    await poller.poll();
    // A day later the annotation is older than the lookback: Grafana does not return it, and that is no deletion.
    clock.now = NOW + 24 * 60 * MIN;
    expect(await poller.poll()).toMatchObject({ seen: 0, withdrawn: 0 });
    expect(incidents.feedback).toHaveLength(1);
    clock.now = NOW;
    // A full answer (POLL_LIMIT annotations, none of them 1) may have cut 1 off: nothing is withdrawn.
    const many = Array.from({ length: 1000 }, (_, i) => ({
      id: 100 + i,
      time: NOW - 10 * MIN,
      updated: 10,
      tags: ['isoscope:real', 'entity:db-9'],
    }));
    annotations.splice(0, 1, ...many);
    expect(await poller.poll()).toMatchObject({ seen: 1000, withdrawn: 0 });
    expect(incidents.feedback).toHaveLength(1);
    annotations.splice(0, 1000);
    expect(await poller.poll()).toMatchObject({ withdrawn: 1 });
  });

  it('notes the span of an annotation applied before spans were kept, so its deletion is noticed after', async () => {
    const annotations: AnnotationInput[] = [
      { id: 1, time: NOW - 50 * MIN, updated: 10, tags: ['isoscope:real', 'host:web-2'] },
    ];
    const { poller, incidents } = setup(records, annotations);
    await poller.poll();
    const applied = incidents.ledger.get('1')!;
    delete applied.time;
    delete applied.timeEnd;
    expect(await poller.poll()).toMatchObject({ applied: 0, withdrawn: 0 });
    expect(incidents.ledger.get('1')).toMatchObject({ time: NOW - 50 * MIN, timeEnd: NOW - 50 * MIN });
    annotations.splice(0, 1);
    expect(await poller.poll()).toMatchObject({ withdrawn: 1 });
  });

  it('leaves out an annotation with two different verdicts, and reads tags without case', async () => {
    const { poller, incidents, warnings } = setup(records, [
      { id: 1, time: NOW - 50 * MIN, updated: 1, tags: ['isoscope:real', 'isoscope:not-anomaly'] },
      { id: 2, time: NOW - 50 * MIN, updated: 1, tags: ['isoscope:real', 'ISOSCOPE:REAL', 'host:web-2'] },
    ]);
    // Grafana matches tags exactly; the fake Grafana above finds both by 'isoscope:real'.
    expect(await poller.poll()).toMatchObject({ seen: 2, applied: 1, ambiguous: 1 });
    expect(warnings).toEqual(['Grafana annotation left out: it carries more than one verdict tag']);
    expect(incidents.feedback.map((f) => f.incidentId)).toEqual(['cpu-web2']);
  });

  it('takes the older annotation first, so the newest edit over an incident is its verdict', async () => {
    const { poller, incidents } = setup(records, [
      { id: 9, time: NOW - 50 * MIN, updated: NOW - MIN, tags: ['isoscope:expected', 'host:web-2'] },
      { id: 3, time: NOW - 51 * MIN, updated: NOW - 5 * MIN, tags: ['isoscope:real', 'host:web-2'] },
    ]);
    await poller.poll();
    expect(incidents.feedback.map((f) => f.verdict)).toEqual(['real', 'expected']);
  });

  it("names the author by id when Grafana gives no login, and passes on Grafana's failure", async () => {
    const { poller, incidents } = setup(records, [
      { id: 4, time: NOW - 50 * MIN, created: 5, userId: 12, tags: ['isoscope:real', 'host:web-2'] },
    ]);
    await poller.poll();
    expect(incidents.feedback[0]).toMatchObject({ actor: 'grafana:user 12', note: '' });
    expect(incidents.ledger.get('4')?.updated).toBe(5);
    const failing = new AnnotationFeedback({
      incidents: fakeIncidents([]),
      annotations: async () => {
        throw new Error('Grafana answered 401');
      },
      intervalMs: async () => MIN,
      now: () => NOW,
      lookbackMs: MIN,
      log: { info: () => {}, warn: () => {} },
    });
    await expect(failing.poll()).rejects.toThrow('Grafana answered 401');
  });
});

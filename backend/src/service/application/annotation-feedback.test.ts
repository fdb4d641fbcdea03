import type {
  AnnotationSource,
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
  const ledger = new Map<string, number>();
  const feedback: IncidentFeedback[] = [];
  return {
    feedback,
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
      return new Map(ids.filter((id) => ledger.has(id)).map((id) => [id, ledger.get(id)!]));
    },
    async addAnnotationFeedback(source: AnnotationSource, f: IncidentFeedback[]) {
      if ((ledger.get(source.annotationId) ?? -Infinity) >= source.updated) return false;
      ledger.set(source.annotationId, source.updated);
      feedback.push(...f);
      return true;
    },
  };
}

function setup(records: IncidentRecord[], annotations: AnnotationInput[]) {
  const incidents = fakeIncidents(records);
  const asked: Array<{ tags: string[]; from: number; to: number }> = [];
  const warnings: string[] = [];
  const poller = new AnnotationFeedback({
    incidents,
    annotations: async (q) => {
      asked.push(q);
      return annotations.filter(
        (a) => a.time <= q.to && (a.timeEnd ?? a.time) >= q.from && a.tags?.some((t) => q.tags.includes(t)),
      );
    },
    intervalMs: async (id) => (id === 'cpu' ? MIN : id === 'disk' ? 5 * MIN : undefined),
    now: () => NOW,
    lookbackMs: 24 * 60 * MIN,
    log: { info: () => {}, warn: (_d, m) => warnings.push(m) },
  });
  return { poller, incidents, asked, warnings };
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
    expect(await poller.poll()).toEqual({ seen: 0, applied: 0, verdicts: 0, unmatched: 0, ambiguous: 0 });
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
    expect(incidents.ledger).toEqual(new Map([['7', NOW - MIN]]));
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
    // Ann changes her mind: the edit is a new version, and its verdict the incident's latest.
    annotations[0] = {
      ...annotations[0]!,
      updated: NOW - MIN,
      tags: ['isoscope:not-anomaly', 'entity:web-2'],
    };
    expect(await poller.poll()).toMatchObject({ applied: 1, verdicts: 1 });
    expect(await poller.poll()).toMatchObject({ applied: 0 });
    expect(incidents.feedback.map((f) => [f.incidentId, f.verdict, f.actor])).toEqual([
      ['cpu-web2', 'real', 'grafana:ann'],
      ['late', 'real', 'grafana:bob'],
      ['cpu-web2', 'not_anomaly', 'grafana:ann'],
    ]);
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
    expect(incidents.ledger.get('4')).toBe(5);
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

import { FieldType, createDataFrame } from '@grafana/data';
import { alignMetrics, nearestIndex, stretchAt, stretchesOf, toTimelines, type ScoreSeries } from './transforms';

const labels = { detector: 'cpu', entity: 'web-1', model_version: '3' };

function scoreFrame(entity: string, score: number[], anomaly: boolean[], severity: string[]) {
  const l = { ...labels, entity };
  return createDataFrame({
    refId: 'A',
    name: `cpu ${entity}`,
    fields: [
      { name: 'time', type: FieldType.time, values: score.map((_, i) => 1000 * i) },
      { name: 'score', type: FieldType.number, values: score, labels: l },
      { name: 'anomaly', type: FieldType.boolean, values: anomaly, labels: l },
      { name: 'severity', type: FieldType.string, values: severity, labels: l },
      { name: 'threshold', type: FieldType.number, values: score.map(() => 0.6), labels: l },
    ],
  });
}

describe('stretchesOf', () => {
  const series = (anomaly: boolean[], score: number[], severity: string[]): ScoreSeries => ({
    time: anomaly.map((_, i) => i * 60_000),
    score,
    anomaly,
    severity,
    topFeature: anomaly.map((_, i) => `f${i}`),
  });

  it('joins consecutive anomalous points, keeps the worst severity and the peak', () => {
    const s = series(
      [false, true, true, true, false, true],
      [0.2, 0.7, 0.9, 0.65, 0.3, 0.8],
      ['', 'low', 'high', 'medium', '', 'critical']
    );
    expect(stretchesOf(s)).toEqual([
      {
        start: 60_000,
        end: 240_000,
        severity: 'high',
        peakScore: 0.9,
        peakTime: 120_000,
        explainTime: 120_000,
        topFeature: 'f2',
      },
      // The last point stands for one interval, the one before it.
      {
        start: 300_000,
        end: 360_000,
        severity: 'critical',
        peakScore: 0.8,
        peakTime: 300_000,
        explainTime: 300_000,
        topFeature: 'f5',
      },
    ]);
  });

  it('explains the peak of the smoothed score, not a one-point spike at the start', () => {
    const s = series(
      [false, true, true, true, true, true, false],
      [0.2, 0.95, 0.6, 0.8, 0.82, 0.8, 0.2],
      ['', 'high', 'low', 'medium', 'medium', 'medium', '']
    );
    expect(stretchesOf(s)).toEqual([
      expect.objectContaining({ peakScore: 0.95, peakTime: 60_000, explainTime: 240_000, topFeature: 'f4' }),
    ]);
  });

  it('finds nothing in a quiet series and treats unknown severities as low', () => {
    expect(stretchesOf(series([false, false], [0.1, 0.2], ['', '']))).toEqual([]);
    expect(stretchesOf(series([true, false], [0.7, 0.2], ['?', '']))[0]?.severity).toBe('low');
  });
});

describe('toTimelines', () => {
  it('groups scores, features, expected ranges and contributions by entity, most anomalous first', () => {
    const features = createDataFrame({
      refId: 'B',
      fields: [
        { name: 'time', type: FieldType.time, values: [0, 1000, 2000] },
        { name: 'usage_user', type: FieldType.number, values: [10, 95, null], labels, config: { unit: 'percent' } },
      ],
    });
    const expected = createDataFrame({
      refId: 'C',
      fields: [
        { name: 'time', type: FieldType.time, values: [0, 2000] },
        { name: 'usage_user_expected_low', type: FieldType.number, values: [5, 5], labels },
        { name: 'usage_user_expected_high', type: FieldType.number, values: [40, 40], labels },
      ],
    });
    const contributions = createDataFrame({
      refId: 'D',
      fields: [
        { name: 'time', type: FieldType.time, values: [1000] },
        { name: 'top_feature', type: FieldType.string, values: ['usage_user'], labels },
        { name: 'top_contribution', type: FieldType.number, values: [2.5], labels },
        { name: 'score', type: FieldType.number, values: [0.9], labels },
      ],
    });
    const timelines = toTimelines([
      scoreFrame('db-1', [0.1, 0.2, 0.1], [false, false, false], ['', '', '']),
      scoreFrame('web-1', [0.2, 0.9, 0.3], [false, true, false], ['', 'high', '']),
      features,
      expected,
      contributions,
    ]);
    expect(timelines.map((t) => t.entity)).toEqual(['web-1', 'db-1']);
    const web = timelines[0]!;
    expect(web.detector).toBe('cpu');
    expect(web.metrics).toEqual([
      {
        name: 'usage_user',
        unit: 'percent',
        time: [0, 1000, 2000],
        values: [10, 95, null],
        expected: { low: 5, high: 40 },
      },
    ]);
    expect(web.score?.threshold).toBe(0.6);
    expect(web.score?.topFeature).toEqual([undefined, 'usage_user', undefined]);
    expect(web.stretches).toEqual([
      {
        start: 1000,
        end: 2000,
        severity: 'high',
        peakScore: 0.9,
        peakTime: 1000,
        explainTime: 1000,
        topFeature: 'usage_user',
      },
    ]);
  });

  it('draws plain metric frames from other data sources by their host label', () => {
    const influx = createDataFrame({
      fields: [
        { name: 'time', type: FieldType.time, values: [0, 1] },
        {
          name: 'mean',
          type: FieldType.number,
          values: [1, 2],
          labels: { host: 'web-2' },
          config: { displayName: 'cpu.mean' },
        },
      ],
    });
    expect(toTimelines([influx])).toEqual([
      {
        entity: 'web-2',
        metrics: [{ name: 'cpu.mean', unit: undefined, time: [0, 1], values: [1, 2] }],
        stretches: [],
      },
    ]);
  });

  it('returns nothing for frames without time', () => {
    expect(toTimelines([createDataFrame({ fields: [{ name: 'x', type: FieldType.number, values: [1] }] })])).toEqual(
      []
    );
  });
});

describe('lookups', () => {
  it('finds the nearest sample and the stretch under a time', () => {
    expect(nearestIndex([0, 10, 20], 14)).toBe(1);
    expect(nearestIndex([0, 10, 20], 16)).toBe(2);
    expect(nearestIndex([0, 10, 20], -5)).toBe(0);
    expect(nearestIndex([], 3)).toBe(-1);
    const s = { start: 10, end: 20, severity: 'low' as const, peakScore: 0.7, peakTime: 12, explainTime: 12 };
    expect(stretchAt([s], 15)).toBe(s);
    expect(stretchAt([s], 20)).toBeUndefined();
  });

  it('aligns metrics with different timestamps on one axis', () => {
    expect(
      alignMetrics([
        { name: 'a', time: [0, 2], values: [1, 3] },
        { name: 'b', time: [1, 2], values: [5, 6] },
      ])
    ).toEqual({
      time: [0, 1, 2],
      values: [
        [1, null, 3],
        [null, 5, 6],
      ],
    });
  });
});

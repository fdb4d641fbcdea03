import { scanChunk, type SeriesHandler } from '../../io/influx/index.js';
import { anomalyRuns, resultLine, ResultsReader, type ResultColumns } from './results.js';

/** A block's columns as JavaScript values. */
const plain = (b: ResultColumns): Record<string, unknown> => ({
  entity: b.entity,
  rows: b.rows,
  firstTime: b.firstTime,
  modelVersion: b.modelVersion,
  time: b.time.values(),
  score: b.score.values(),
  threshold: b.threshold.values(),
  anomaly: b.anomaly.values(),
  severity: b.severity.values(),
  topFeature: b.topFeature.values(),
  topContribution: b.topContribution.values(),
});

describe('results', () => {
  it('writes each point with what explains it, and extra detector fields in snake case', () => {
    const line = resultLine('cpu', {
      entity: 'web 1',
      timeMs: 1000,
      score: 0.6180339887498949,
      threshold: 0.55,
      anomaly: true,
      severity: 'critical',
      topFeature: 'usage_user',
      modelVersion: 4,
      retrain: 17,
      stage: 'staging',
      extra: { groupScore: 0.7 },
    });
    expect(line).toBe(
      'isoscope_anomaly,detector=cpu,entity=web\\ 1,model_version=4,stage=staging group_score=0.7,score=0.6180339887498949,threshold=0.55,anomaly=true,severity="critical",retrain=17.0,top_feature="usage_user" 1000',
    );
  });

  it('reads results back per stage, old points without a threshold included', async () => {
    const queries: string[] = [];
    const reader = new ResultsReader({
      query: async (q: string) => {
        queries.push(q);
        return [
          [
            {
              name: 'isoscope_anomaly',
              columns: [
                'time',
                'score',
                'threshold',
                'anomaly',
                'severity',
                'retrain',
                'top_feature',
                'top_contribution',
                'entity',
                'model_version',
              ],
              values: [
                [2000, 0.7, 0.6, true, 'critical', 3, 'usage_user', null, 'web-1', '2'],
                [1000, 0.4, null, false, 'none', null, null, null, 'web-1', '1'],
              ],
            },
          ],
        ];
      },
    } as never);
    const rows = await reader.read('cpu', 0, 5000, { stage: 'staging', entity: 'web-1' });
    expect(queries[0]).toContain(`"stage" = 'staging'`);
    expect(rows).toEqual([
      {
        timeMs: 1000,
        entity: 'web-1',
        stage: 'staging',
        modelVersion: 1,
        score: 0.4,
        anomaly: false,
        severity: 'none',
      },
      {
        timeMs: 2000,
        entity: 'web-1',
        stage: 'staging',
        modelVersion: 2,
        score: 0.7,
        threshold: 0.6,
        anomaly: true,
        severity: 'critical',
        retrain: 3,
        topFeature: 'usage_user',
      },
    ]);
    expect(await reader.read('cpu', 0, 5000, { anomaliesOnly: true, minSeverity: 'high' })).toHaveLength(1);
  });

  it('joins consecutive anomalous points of an entity into runs with their peak', () => {
    const r = (timeMs: number, score: number, anomaly = true) => ({
      timeMs,
      entity: 'a',
      stage: 'production',
      modelVersion: 1,
      score,
      anomaly,
      severity: 'low',
    });
    const runs = anomalyRuns([r(0, 0.6), r(60, 0.8), r(120, 0.7), r(180, 0.1, false), r(600, 0.9)], 60);
    expect(runs.map((x) => [x.from, x.to, x.peak.score])).toEqual([
      [0, 120, 0.8],
      [600, 600, 0.9],
    ]);
  });

  it('reads columns per entity: InfluxDB groups and filters, chunks append, blocks in read() order', async () => {
    const queries: string[] = [];
    const columns = [
      'time',
      'score',
      'threshold',
      'anomaly',
      'severity',
      'retrain',
      'top_feature',
      'top_contribution',
      'model_version',
    ];
    const reader = new ResultsReader({
      query: async () => {
        throw new Error('columns() streams with scan()');
      },
      // InfluxDB's chunked answer, one line per series piece, through the client's own scanner.
      scan: async (q: string, handler: SeriesHandler) => {
        queries.push(q);
        const onSeries = (id: number, series: unknown): void =>
          scanChunk(
            Buffer.from(JSON.stringify({ results: [{ statement_id: id, series: [series] }] })),
            handler,
          );
        // Grouped by entity, in InfluxDB's tag order; one entity's rows in two chunks.
        onSeries(0, {
          name: 'isoscope_anomaly',
          tags: { entity: 'Web-2' },
          columns,
          values: [[1000, 0.2, 0.5, false, 'none', 1, null, null, '3']],
        });
        onSeries(0, {
          name: 'isoscope_anomaly',
          tags: { entity: 'db-1' },
          columns,
          values: [[2000, 0.9, null, true, 'high', 1, 'usage_user', 0.4, '2']],
        });
        onSeries(0, {
          name: 'isoscope_anomaly',
          tags: { entity: 'db-1' },
          columns,
          values: [[3000, 0.1, 0.5, false, 'none', 1, null, null, '3']],
        });
        onSeries(0, {
          name: 'isoscope_anomaly',
          tags: { entity: 'web-1' },
          columns,
          values: [[1000, 0.3, 0.5, false, 'none', 1, null, null, '3']],
        });
      },
    } as never);
    const blocks = await reader.columns('cpu', 0, 5000, { entities: ['web-1', 'Web-2', 'db-1'] });
    expect(queries[0]).toContain(`("entity" = 'web-1' OR "entity" = 'Web-2' OR "entity" = 'db-1')`);
    expect(queries[0]).toMatch(/ GROUP BY "entity"$/);
    expect(queries[0]).not.toContain('"anomaly" = true');
    // By first time, then as localeCompare orders entities (web-1 before Web-2), as read() lists them.
    expect(blocks.map((b) => b.entity)).toEqual(['web-1', 'Web-2', 'db-1']);
    expect(plain(blocks[2]!)).toEqual({
      entity: 'db-1',
      rows: 2,
      firstTime: 2000,
      time: [2000, 3000],
      score: [0.9, 0.1],
      threshold: [null, 0.5],
      anomaly: [true, false],
      severity: ['high', 'none'],
      // The last point's: what a frame's label says.
      modelVersion: 3,
      topFeature: ['usage_user', ''],
      topContribution: [0.4, null],
    });
    expect(blocks[2]!.threshold.present).toBe(1);
    const anomalies = await reader.columns('cpu', 0, 5000, { anomaliesOnly: true, stage: 'staging' });
    expect(queries[1]).toContain(`"stage" = 'staging' AND "anomaly" = true GROUP BY "entity"`);
    expect(anomalies.map((b) => [b.entity, b.time.values(), b.modelVersion])).toEqual([['db-1', [2000], 2]]);
  });

  it('reads columns through query() when the client has no scan(), and old points lacking columns', async () => {
    const reader = new ResultsReader({
      query: async () => [
        [
          {
            name: 'isoscope_anomaly',
            tags: { entity: 'web-1' },
            // Written before results carried a threshold, a severity or a top feature.
            columns: ['time', 'score', 'anomaly', 'model_version'],
            values: [
              [1000, 0.7, true, '1'],
              [2000, 0.2, false, '1'],
            ],
          },
        ],
      ],
    } as never);
    const [block] = await reader.columns('cpu', 0, 5000);
    expect(plain(block!)).toEqual({
      entity: 'web-1',
      rows: 2,
      firstTime: 1000,
      modelVersion: 1,
      time: [1000, 2000],
      score: [0.7, 0.2],
      threshold: [null, null],
      anomaly: [true, false],
      severity: ['none', 'none'],
      topFeature: ['', ''],
      topContribution: [null, null],
    });
    expect(block!.threshold.present).toBe(0);
  });
});

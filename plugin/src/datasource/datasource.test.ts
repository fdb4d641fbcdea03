import { dateTime, type DataQueryRequest, type DataSourceInstanceSettings } from '@grafana/data';
import { firstValueFrom } from 'rxjs';
import { fakeBackend } from '../test/fakeBackend';
import { fakeTemplates } from '../test/fakeTemplates';
import { values } from '../test/values';
import { IsoscopeDataSource, formatEntity, versionMismatch } from './datasource';
import { migrateQuery, migrateVariableQuery, type IsoscopeDataSourceOptions, type IsoscopeQuery } from './types';

const proxy = '/api/datasources/proxy/uid/isoscope';

function datasource(jsonData: IsoscopeDataSourceOptions = { url: 'http://isoscope:8080' }) {
  return new IsoscopeDataSource({
    id: 1,
    uid: 'isoscope',
    type: 'isoscope-anomaly-datasource',
    name: 'Isoscope',
    url: proxy,
    access: 'proxy',
    jsonData,
    meta: {} as never,
    readOnly: true,
  } as DataSourceInstanceSettings<IsoscopeDataSourceOptions>);
}

function request(targets: Array<Partial<IsoscopeQuery>>): DataQueryRequest<IsoscopeQuery> {
  return {
    targets: targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      detector: '',
      entity: '',
      return: 'score',
      ...t,
    })),
    range: {
      from: dateTime('2026-03-01T00:00:00Z'),
      to: dateTime('2026-03-01T06:00:00Z'),
      raw: { from: 'now-6h', to: 'now' },
    },
    scopedVars: {},
  } as unknown as DataQueryRequest<IsoscopeQuery>;
}

const frame = {
  refId: 'A',
  name: 'cpu web-1',
  fields: [
    { name: 'time', type: 'time', values: [1, 2] },
    {
      name: 'score',
      type: 'number',
      values: [0.2, 0.8],
      labels: { detector: 'cpu', entity: 'web-1', model_version: '2' },
      config: { min: 0, max: 1 },
    },
  ],
};

describe('IsoscopeDataSource.query', () => {
  beforeEach(() => fakeTemplates({ host: ['web-1', 'web-2'], det: 'cpu' }));

  it('posts the targets with variables resolved, multi-values as {a,b}, hidden queries left out', async () => {
    const calls = fakeBackend(() => ({ data: { frames: [frame] } }));
    const response = await datasource().query(
      request([
        { detector: '$det', entity: '$host', return: 'score' },
        { detector: 'cpu', return: 'features', hide: true },
        { detector: 'cpu', entity: 'web-3', return: 'score', stage: 'staging' },
      ])
    );
    expect(calls).toEqual([
      {
        method: 'POST',
        url: `${proxy}/api/grafana/query`,
        data: {
          range: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T06:00:00.000Z' },
          targets: [
            { refId: 'A', detector: 'cpu', entity: '{web-1,web-2}', return: 'score' },
            { refId: 'C', detector: 'cpu', entity: 'web-3', return: 'score', stage: 'staging' },
          ],
        },
      },
    ]);
    expect(response.data).toHaveLength(1);
    expect(response.data[0].fields[1].labels).toEqual({ detector: 'cpu', entity: 'web-1', model_version: '2' });
    expect(response.data[0].fields[1].values).toEqual([0.2, 0.8]);
  });

  it('skips score queries without a detector instead of asking the service', async () => {
    const calls = fakeBackend();
    expect(await datasource().query(request([{ detector: '', return: 'score' }]))).toEqual({ data: [] });
    expect(calls).toEqual([]);
  });

  it('returns the service message as the query error', async () => {
    fakeBackend(() => ({ status: 400, data: { message: "targets: no detector 'nope'" } }));
    const response = await datasource().query(request([{ detector: 'nope' }]));
    expect(response.errors).toEqual([{ message: "targets: no detector 'nope'", status: 400 }]);
  });

  it('turns annotation queries into annotation events with regions', async () => {
    const calls = fakeBackend(() => ({
      data: [
        {
          time: 1000,
          timeEnd: 61000,
          title: 'cpu on web-1: high',
          text: 'score 0.91, top usage_user',
          tags: ['isoscope', 'high'],
        },
      ],
    }));
    const ds = datasource();
    const anno = ds.annotations!.prepareAnnotation!({
      name: 'Anomalies',
      enable: true,
      iconColor: 'red',
      target: { detector: 'cpu' },
    });
    const query = ds.annotations!.prepareQuery ? ds.annotations!.prepareQuery(anno) : anno.target;
    const response = await ds.query(request([query as IsoscopeQuery]));
    expect(calls[0]).toEqual({
      method: 'POST',
      url: `${proxy}/api/grafana/annotations`,
      data: {
        range: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T06:00:00.000Z' },
        detector: 'cpu',
        entity: undefined,
      },
    });
    const events = await firstValueFrom(ds.annotations!.processEvents!(anno, response.data));
    expect(events).toEqual([
      {
        time: 1000,
        timeEnd: 61000,
        isRegion: true,
        title: 'cpu on web-1: high',
        text: 'score 0.91, top usage_user',
        tags: ['isoscope', 'high'],
      },
    ]);
  });
  it('asks for incidents when the annotation shows incidents, and leaves the kind out otherwise', async () => {
    const calls = fakeBackend(() => ({
      data: [
        {
          time: 1000,
          timeEnd: 2_401_000,
          title: 'cpu: high incident on web-1',
          text: 'resolved; peak score 0.746; top metrics usage_user ×8',
          tags: ['isoscope', 'incident', 'cpu', 'web-1', 'high', 'resolved'],
        },
      ],
    }));
    const ds = datasource();
    const anno = ds.annotations!.prepareAnnotation!({
      name: 'Isoscope incidents',
      enable: true,
      iconColor: 'orange',
      target: { detector: '', entity: 'web-1', kind: 'incidents' },
    });
    const response = await ds.query(request([anno.target as IsoscopeQuery]));
    expect(calls[0]!.data).toEqual({
      range: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T06:00:00.000Z' },
      detector: undefined,
      entity: 'web-1',
      kind: 'incidents',
    });
    const events = await firstValueFrom(ds.annotations!.processEvents!(anno, response.data));
    expect(events).toEqual([
      expect.objectContaining({ time: 1000, timeEnd: 2_401_000, isRegion: true, title: 'cpu: high incident on web-1' }),
    ]);
    // An anomalies annotation (saved before kinds, or chosen) sends the body it always sent.
    await ds.query(request([{ ...(anno.target as IsoscopeQuery), kind: 'anomalies' }]));
    expect(calls[1]!.data).not.toHaveProperty('kind');
  });
});

describe('IsoscopeDataSource variables', () => {
  it('lists detectors, and entities of a detector given by a variable', async () => {
    fakeTemplates({ det: 'mem' });
    const calls = fakeBackend((c) => ({
      data:
        (c.data as { find: string }).find === 'detectors'
          ? [{ text: 'CPU', value: 'cpu' }, ...values('mem')]
          : values('web-1'),
    }));
    const ds = datasource();
    expect(await ds.metricFindQuery({ find: 'detectors' })).toEqual([
      { text: 'CPU', value: 'cpu' },
      { text: 'mem', value: 'mem' },
    ]);
    expect(await ds.metricFindQuery('entities($det)')).toEqual([{ text: 'web-1', value: 'web-1' }]);
    expect(calls.map((c) => c.data)).toEqual([{ find: 'detectors' }, { find: 'entities', detector: 'mem' }]);
  });
});

describe('IsoscopeDataSource.testDatasource', () => {
  it('asks for the URL before calling anything', async () => {
    const calls = fakeBackend();
    expect(await datasource({}).testDatasource()).toEqual({
      status: 'error',
      message: expect.stringMatching(/Set the Isoscope service's URL/),
    });
    expect(calls).toEqual([]);
  });

  it.each([
    [
      { data: { status: 'ok', version: '0.1.0', detectors: 3, influx: '1.8.10' } },
      'success',
      'Isoscope 0.1.0: 3 detectors, InfluxDB 1.8.10 reachable.',
    ],
    [
      { status: 503, data: { message: 'InfluxDB at http://influxdb:8086 is unreachable: connection refused' } },
      'error',
      'The Isoscope service answers, but cannot reach InfluxDB: InfluxDB at http://influxdb:8086 is unreachable: connection refused',
    ],
    [
      { data: { status: 'ok', version: '1.0.0', detectors: 0, influx: '1.8.10' } },
      'error',
      /Version mismatch: the service is 1.0.0.*Upgrade the plugin/,
    ],
    [{ status: 401, data: { message: 'missing token' } }, 'error', /refused the token/],
    [{ status: 502, data: {} }, 'error', /unreachable/],
  ])('reports %j as %s', async (reply, status, message) => {
    fakeBackend(() => reply);
    const result = await datasource().testDatasource();
    expect(result.status).toBe(status);
    expect(result.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
  });
});

describe('query shapes', () => {
  it('formats entities for the service', () => {
    expect(formatEntity('web-1')).toBe('web-1');
    expect(formatEntity(['web-1'])).toBe('web-1');
    expect(formatEntity(['a', 'b'])).toBe('{a,b}');
  });

  it('migrates queries saved by older dashboards', () => {
    expect(migrateQuery({ refId: 'A', detector: 'cpu', host: 'web-1' } as never)).toEqual({
      refId: 'A',
      detector: 'cpu',
      entity: 'web-1',
      return: 'score',
    });
    expect(migrateQuery({ refId: 'A', detector: 'cpu', entity: '', returns: 'anomalies' } as never).return).toBe(
      'anomalies'
    );
    expect(migrateQuery({ refId: 'A', return: 'bogus' } as never)).toEqual({
      refId: 'A',
      detector: '',
      entity: '',
      return: 'score',
    });
    expect(migrateVariableQuery('fields(cpu)')).toEqual({ find: 'fields', detector: 'cpu' });
    expect(migrateVariableQuery('detectors')).toEqual({ find: 'detectors' });
    expect(migrateVariableQuery(undefined)).toEqual({ find: 'detectors' });
  });

  it('names the older side of a version mismatch', () => {
    expect(versionMismatch('0.0.9', '0.1.0')).toMatch(/Upgrade the service/);
    expect(versionMismatch('0.2.0', '0.1.0')).toBeUndefined();
    expect(versionMismatch('dev', '0.1.0')).toMatch(/not a version/);
  });
});

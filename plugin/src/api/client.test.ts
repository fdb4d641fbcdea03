import { IsoscopeClient, IsoscopeError } from './client';
import { fakeBackend } from '../test/fakeBackend';

const base = '/api/datasources/proxy/uid/isoscope';

describe('IsoscopeClient', () => {
  it('sends each call through the data source proxy with the exact path, query and body', async () => {
    const calls = fakeBackend(() => ({ data: [] }));
    const client = new IsoscopeClient(base);
    await client.detectors();
    await client.preview({ id: 'cpu hosts' }, 30);
    await client.preview({ spec: { source: { preset: 'mem' } } as never }, 15);
    await client.anomalies(
      'cpu',
      { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
      { entity: 'web 1' }
    );
    await client.explain('cpu', '', '2026-01-01T00:00:00.000Z');
    await client.setStage('cpu', 3, 'production', 'better');
    await client.rollback('cpu', 'worse');
    await client.variables('entities', 'cpu');
    expect(calls).toEqual([
      { method: 'GET', url: `${base}/api/detectors` },
      { method: 'GET', url: `${base}/api/detectors/cpu%20hosts/preview?minutes=30` },
      {
        method: 'POST',
        url: `${base}/api/detectors/preview?minutes=15`,
        data: { spec: { source: { preset: 'mem' } } },
      },
      {
        method: 'GET',
        url: `${base}/api/detectors/cpu/anomalies?from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z&entity=web%201`,
      },
      // An empty entity (a detector without entities) is left out, as the service expects.
      { method: 'GET', url: `${base}/api/detectors/cpu/explain?time=2026-01-01T00%3A00%3A00.000Z` },
      {
        method: 'POST',
        url: `${base}/api/admin/detectors/cpu/models/3/stage`,
        data: { stage: 'production', reason: 'better' },
      },
      { method: 'POST', url: `${base}/api/admin/detectors/cpu/rollback`, data: { reason: 'worse' } },
      { method: 'POST', url: `${base}/api/grafana/variables`, data: { find: 'entities', detector: 'cpu' } },
    ]);
  });

  it('lists, adds and deletes suppression rules', async () => {
    const calls = fakeBackend(() => ({ data: [] }));
    const client = new IsoscopeClient(base);
    await client.suppressions();
    await client.createSuppression({
      entity: 'db-1',
      kind: 'weekly',
      from: 'Sat 22:00',
      to: 'Sun 06:00',
      reason: 'batch',
    });
    await client.deleteSuppression('a/b');
    expect(calls).toEqual([
      { method: 'GET', url: `${base}/api/suppressions` },
      {
        method: 'POST',
        url: `${base}/api/suppressions`,
        data: { entity: 'db-1', kind: 'weekly', from: 'Sat 22:00', to: 'Sun 06:00', reason: 'batch' },
      },
      { method: 'DELETE', url: `${base}/api/suppressions/a%2Fb` },
    ]);
  });

  it.each([
    [401, { message: 'no token' }, /refused the token/],
    [
      403,
      { message: "this needs the admin role; the token 'grafana' is editor" },
      /Not allowed: this needs the admin role/,
    ],
    [403, { message: 'plugin proxy route access denied' }, /your Grafana role/],
    [502, { message: 'dial tcp: connection refused' }, /unreachable \(HTTP 502\).*connection refused/],
    [503, {}, /unreachable \(HTTP 503\)/],
    [0, {}, /unreachable \(HTTP no answer\)/],
    [
      422,
      { statusCode: 422, error: 'Unprocessable Entity', message: "measurement 'cpu' has no data" },
      /^measurement 'cpu' has no data$/,
    ],
    [500, {}, /answered HTTP 500/],
  ])('turns HTTP %s into a message an operator can act on', async (status, data, message) => {
    fakeBackend(() => ({ status, data }));
    const error = await new IsoscopeClient(base).detectors().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IsoscopeError);
    expect((error as IsoscopeError).status).toBe(status);
    expect((error as IsoscopeError).message).toMatch(message);
  });
});

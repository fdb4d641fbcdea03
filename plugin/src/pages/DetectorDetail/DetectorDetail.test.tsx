import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { detector, job, version } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { DetectorDetail } from './DetectorDetail';
import { entityOf, unscored } from './metrics';

// uPlot draws on a canvas, which jsdom lacks: the charts are checked in the browser test.
jest.mock('@grafana/ui', () => ({
  ...jest.requireActual('@grafana/ui'),
  UPlotChart: ({ data }: { data: unknown[][] }) => <div data-testid="uplot" data-points={data[0]?.length} />,
}));

const t0 = Date.now() - 3600_000;
const scoreFrame = (entity: string, flagged: boolean) => {
  const labels = { detector: 'cpu', entity, model_version: '2' };
  return {
    refId: 'C',
    name: `cpu ${entity}`,
    fields: [
      { name: 'time', type: 'time', values: [t0, t0 + 60_000, t0 + 120_000] },
      { name: 'score', type: 'number', values: [0.4, flagged ? 0.9 : 0.45, 0.4], labels },
      { name: 'anomaly', type: 'boolean', values: [false, flagged, false], labels },
      { name: 'severity', type: 'string', values: ['', flagged ? 'high' : '', ''], labels },
      { name: 'threshold', type: 'number', values: [0.6, 0.6, 0.6], labels },
    ],
  };
};

const drift = {
  detector: 'cpu',
  entity: 'web-1',
  modelVersion: 2,
  at: '2026-03-02T00:00:00.000Z',
  from: '2026-03-01T00:00:00.000Z',
  to: '2026-03-02T00:00:00.000Z',
  drifted: true,
  driftedFeatures: ['usage_user'],
  ranking: ['usage_user'],
  features: [
    {
      feature: 'usage_user',
      votes: 4,
      drifted: true,
      ks: { statistic: 0.4, pvalue: 1e-9, method: 'asymp' },
      psi: 0.8,
      jensenShannon: 0.2,
      wasserstein: 12,
      wassersteinScaled: 0.9,
      verdicts: {},
    },
  ],
};

function open(role: 'Viewer' | 'Editor' | 'Admin', extra: Record<string, unknown> = {}) {
  return renderPage(<DetectorDetail />, {
    route: '/detectors/:id',
    url: '/detectors/cpu',
    role,
    answer: routes({
      'GET detectors/cpu': detector,
      'GET detectors/cpu/models': [
        version(1, 'archived'),
        version(2, 'production'),
        version(3, 'candidate'),
        version(1, 'production', 'web-2'),
      ],
      'GET detectors/cpu/jobs': [job('succeeded', 1)],
      'POST grafana/query': { frames: [scoreFrame('web-2', false), scoreFrame('web-1', true)] },
      'GET detectors/cpu/drift': [drift],
      'GET detectors/cpu/history': [
        {
          version: 2,
          from: 'candidate',
          to: 'production',
          actor: 'admin',
          reason: 'first model',
          at: '2026-03-01T00:00:00.000Z',
        },
      ],
      ...extra,
    }),
  });
}

const health = {
  detector: 'cpu',
  state: 'lagging' as const,
  reason: '1 of 2 entities lagging; web-2: lagging: 7 min behind (limit 6 min)',
  checkedAt: '2026-03-02T00:07:00.000Z',
  lagLimits: { lagging: 360, stalled: 1200 },
  scoredTo: '2026-03-02T00:00:00.000Z',
  lagSeconds: 420,
  since: '2026-03-01T00:00:00.000Z',
  rowsScored: 2880,
  anomalies: 3,
  failures: { total: 2, consecutive: 0, lastAt: '2026-03-01T12:00:00.000Z', lastError: 'InfluxDB timed out' },
  lastTraining: {
    jobId: 'j1',
    state: 'failed' as const,
    at: '2026-03-01T06:00:00.000Z',
    error: 'no data in the window',
  },
  drift: { state: 'drifted' as const, checkedAt: '2026-03-02T00:00:00.000Z', driftedEntities: ['web-1'] },
  entities: [
    {
      entity: 'web-1',
      state: 'ok' as const,
      reason: 'scored by v2',
      productionVersion: 2,
      scoredTo: '2026-03-02T00:06:00.000Z',
      lagSeconds: 60,
      rowsScored: 1440,
      anomalies: 3,
      drift: { state: 'drifted' as const, checkedAt: '2026-03-02T00:00:00.000Z', driftedFeatures: ['usage_user'] },
    },
    {
      entity: 'web-2',
      state: 'lagging' as const,
      reason: 'lagging: 7 min behind (limit 6 min)',
      productionVersion: 1,
      scoredTo: '2026-03-02T00:00:00.000Z',
      lagSeconds: 420,
      rowsScored: 1440,
      anomalies: 0,
      drift: { state: 'unchecked' as const, driftedFeatures: [] },
    },
  ],
};

async function modelsOf(entity: string) {
  fireEvent.click(await screen.findByRole('tab', { name: 'Model versions' }));
  return screen.getByRole('rowgroup', { name: `Models of ${entity}` });
}

describe('DetectorDetail', () => {
  it('starts with its results: the timeline of each entity, most anomalous first', async () => {
    const { calls } = open('Viewer');
    await screen.findByTestId('isoscope-timeline-web-1');
    expect(screen.getByRole('tab', { name: 'Results' })).toHaveAttribute('aria-selected', 'true');
    const timelines = screen.getAllByTestId(/^isoscope-timeline-/).map((e) => e.dataset.testid);
    expect(timelines).toEqual(['isoscope-timeline-web-1', 'isoscope-timeline-web-2']);
    expect(screen.getByRole('button', { name: /high$/ })).toBeInTheDocument();
    const query = calls.find((c) => c.url.endsWith('grafana/query'))!.data as {
      range: { from: string; to: string };
      targets: Array<{ return: string; entity: string }>;
    };
    expect(query.targets.map((t) => t.return)).toEqual(['features', 'expected', 'score', 'contributions']);
    expect(query.targets.every((t) => t.entity === '')).toBe(true);
    expect(Date.parse(query.range.to) - Date.parse(query.range.from)).toBe(24 * 3600_000);
    // Every entity has a production version: nothing to warn about.
    expect(screen.queryByText(/not scored yet/)).not.toBeInTheDocument();
  });

  it('shows its health: how far behind, failures, last training, drift, and each entity', async () => {
    open('Viewer', { 'GET detectors/cpu/health': health });
    const section = await screen.findByRole('region', { name: 'Health' });
    expect(within(section).getAllByText('lagging')[0]).toBeInTheDocument();
    expect(within(section).getByText(health.reason)).toBeInTheDocument();
    expect(within(section).getByText('7 min (lagging past 6 min)')).toBeInTheDocument();
    expect(within(section).getByText('2880 rows, 3 anomalous')).toBeInTheDocument();
    expect(within(section).getByText(/^2, last .*: InfluxDB timed out$/)).toBeInTheDocument();
    expect(within(section).getByText('failed')).toBeInTheDocument();
    expect(within(section).getByText(/no data in the window/)).toBeInTheDocument();
    expect(within(section).getByText('drifted: web-1')).toBeInTheDocument();
    const rows = within(section).getAllByRole('row').slice(1);
    expect(
      rows.map((r) =>
        within(r)
          .getAllByRole('cell')
          .slice(0, 5)
          .map((c) => c.textContent)
      )
    ).toEqual([
      ['web-1', 'scoring', 'v2', expect.stringMatching(/^2026-03-0[12] /), '60 s'],
      ['web-2', 'lagging', 'v1', expect.stringMatching(/^2026-03-0[12] /), '7 min'],
    ]);
  });

  it('keeps the per-entity health behind one click when every entity is scored', async () => {
    const fine = { ...health, state: 'ok', reason: '2 of 2 entities scored', entities: [health.entities[0]!] };
    open('Viewer', { 'GET detectors/cpu/health': fine });
    const section = await screen.findByRole('region', { name: 'Health' });
    expect(within(section).getByText('2 of 2 entities scored')).toBeInTheDocument();
    expect(within(section).queryByRole('table')).not.toBeInTheDocument();
    fireEvent.click(within(section).getByRole('button', { name: 'Each entity (1)' }));
    expect(within(section).getByRole('table')).toBeInTheDocument();
    fireEvent.click(within(section).getByRole('button', { name: 'Each entity (1)' }));
    expect(within(section).queryByRole('table')).not.toBeInTheDocument();
  });

  it('says when its health cannot be read, and still shows the rest', async () => {
    open('Viewer');
    expect(await screen.findByText('Health unknown')).toBeInTheDocument();
    expect(await screen.findByTestId('isoscope-timeline-web-1')).toBeInTheDocument();
  });

  it("shows each entity's versions in one table, grouped by entity", async () => {
    open('Viewer');
    const web1 = await modelsOf('web-1');
    expect(screen.getAllByRole('table', { name: 'Model versions' })).toHaveLength(1);
    expect(within(web1).getByRole('rowheader')).toHaveTextContent('web-1');
    const rows = within(web1).getAllByRole('row');
    expect(rows.map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['v3', 'v2', 'v1']);
    expect(within(rows[0]!).getByText('candidate')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('0.930')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('0.70%')).toBeInTheDocument();
    expect(within(rows[0]!).getAllByRole('cell')[4]).toHaveTextContent('0.610 (alert-budget)');
    expect(within(rows[0]!).getAllByRole('cell')[2]).toHaveTextContent('2026-03-01 00:00:00');
    expect(screen.getByRole('rowgroup', { name: 'Models of web-2' })).toBeInTheDocument();
    // A viewer sees no stage actions, and cannot train.
    expect(screen.queryByRole('button', { name: 'Promote' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: /Train/ })).toHaveAttribute('aria-disabled', 'true');
  });

  it("numbers each entity's versions v1, v2, … whatever the detector-wide ids", async () => {
    // As the service numbers them: web-1 got ids 1, 2 and 4, web-2 id 3.
    const models = [
      { ...version(4, 'candidate'), entityVersion: 3 },
      { ...version(3, 'production', 'web-2'), entityVersion: 1 },
      { ...version(2, 'production'), entityVersion: 2 },
      { ...version(1, 'archived'), entityVersion: 1 },
    ];
    open('Viewer', {
      'GET detectors/cpu/models': models,
      'GET detectors/cpu/history': [
        {
          version: 3,
          from: 'candidate',
          to: 'production',
          actor: 'admin',
          reason: 'first',
          at: '2026-03-01T00:00:00.000Z',
        },
      ],
      'GET detectors/cpu/drift': [{ ...drift, entity: 'web-2', modelVersion: 3 }],
    });
    const web1 = await modelsOf('web-1');
    expect(
      within(web1)
        .getAllByRole('row')
        .map((r) => within(r).getAllByRole('cell')[0]!.textContent)
    ).toEqual(['v3', 'v2', 'v1']);
    const web2 = screen.getByRole('rowgroup', { name: 'Models of web-2' });
    expect(within(web2).getAllByRole('cell')[0]).toHaveTextContent(/^v1$/);
    fireEvent.click(screen.getByRole('tab', { name: 'Stage history' }));
    const history = screen.getByRole('table', { name: 'Stage history' });
    expect(
      within(history)
        .getAllByRole('cell')
        .map((c) => c.textContent)
        .slice(1, 3)
    ).toEqual(['web-2', 'v1']);
    fireEvent.click(screen.getByRole('tab', { name: 'Drift' }));
    expect(within(screen.getByRole('region', { name: 'Drift of web-2' })).getByText(/^v1, /)).toBeInTheDocument();
  });

  it('promotes a version only with a reason, and the service gets the reason', async () => {
    const { calls } = open('Admin', { 'POST admin/detectors/cpu/models/3/stage': { version: 3, to: 'production' } });
    const web1 = await modelsOf('web-1');
    fireEvent.click(within(web1).getAllByRole('button', { name: 'Promote' })[0]!);
    const confirm = screen.getByRole('button', { name: 'Move to production' });
    expect(confirm).toBeDisabled();
    fireEvent.change(screen.getByLabelText(/^Reason/), { target: { value: 'fewer false alarms' } });
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(calls).toContainEqual({
        method: 'POST',
        url: '/api/datasources/proxy/uid/isoscope/api/admin/detectors/cpu/models/3/stage',
        data: { stage: 'production', reason: 'fewer false alarms' },
      })
    );
    expect(await screen.findByText('v3 is production')).toBeInTheDocument();
  });

  it('rolls back one entity with a reason', async () => {
    const { calls } = open('Admin', { 'POST admin/detectors/cpu/rollback': {} });
    const web1 = await modelsOf('web-1');
    fireEvent.click(within(web1).getByRole('button', { name: /Roll back/ }));
    fireEvent.change(screen.getByLabelText(/^Reason/), { target: { value: 'v2 pages too often' } });
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Roll back' }));
    await waitFor(() =>
      expect(calls.find((c) => c.url.endsWith('/rollback'))?.data).toEqual({
        reason: 'v2 pages too often',
        entity: 'web-1',
      })
    );
  });

  it('trains and follows the job until it ends', async () => {
    jest.useFakeTimers();
    try {
      let state: 'none' | 'running' | 'succeeded' = 'none';
      const { calls } = open('Editor', {
        'POST detectors/cpu/train': () => {
          state = 'running';
          return { status: 202, data: job('queued', 0) };
        },
        'GET detectors/cpu/jobs': () => ({
          data: state === 'none' ? [] : [state === 'running' ? job('running', 0.4) : job('succeeded', 1)],
        }),
      });
      const train = await screen.findByRole('button', { name: /Train/ });
      await act(async () => {
        fireEvent.click(train);
      });
      await waitFor(() => expect(calls.some((c) => c.url.endsWith('/train'))).toBe(true));
      expect(await screen.findByText(/40% training web-2/)).toBeInTheDocument();
      expect(screen.getByRole('button', { name: /Train/ })).toBeDisabled();
      expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();
      state = 'succeeded';
      await act(async () => {
        jest.advanceTimersByTime(1100);
      });
      expect(await screen.findByText('1 model')).toBeInTheDocument();
      expect(calls.filter((c) => c.url.endsWith('/jobs')).length).toBeGreaterThanOrEqual(3);
      // When the job ended the versions were read again.
      expect(calls.filter((c) => c.url.endsWith('/models')).length).toBeGreaterThanOrEqual(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('shows drift per feature and the alert rule in words', async () => {
    open('Viewer');
    fireEvent.click(await screen.findByRole('tab', { name: 'Drift' }));
    const report = screen.getByRole('region', { name: 'Drift of web-1' });
    expect(within(report).getByText('drifted: usage_user')).toBeInTheDocument();
    expect(within(report).getByText('1.00e-9')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('tab', { name: 'Alert rule' }));
    expect(screen.getByText(/at least 3 of its last 5 scored points are anomalous at severity low/)).toHaveTextContent(
      'Alerts go to every receiver the service has.'
    );
    fireEvent.click(screen.getByRole('tab', { name: 'Stage history' }));
    const change = screen.getByText('first model').closest('tr')!;
    // The history names no entity: version 2 is web-1's.
    expect(
      within(change)
        .getAllByRole('cell')
        .map((c) => c.textContent)
    ).toEqual(['2026-03-01 00:00:00', 'web-1', 'v2', 'candidate', 'production', 'admin', 'first model']);
  });

  it('says which entities are not scored and why, and an admin promotes them all with one reason', async () => {
    const promoted: number[] = [];
    const { calls } = open('Admin', {
      'GET detectors/cpu/models': [
        version(1, 'production'),
        version(2, 'candidate', 'web-2'),
        version(3, 'archived', 'db-1'),
        version(4, 'candidate', 'db-1'),
      ],
      ...Object.fromEntries(
        [2, 4].map((v) => [
          `POST admin/detectors/cpu/models/${v}/stage`,
          () => {
            promoted.push(v);
            return { data: { version: v, to: 'production' } };
          },
        ])
      ),
    });
    const warning = await screen.findByText('2 of 3 entities are not scored yet: db-1, web-2');
    expect(warning.closest('[role="alert"]') ?? warning.parentElement!).toHaveTextContent(
      /no model version in production/
    );
    fireEvent.click(screen.getByRole('button', { name: /Promote the newest version of each \(2\)/ }));
    expect(screen.getByRole('dialog')).toHaveTextContent('db-1 v4, web-2 v2 go to production');
    fireEvent.change(screen.getByLabelText(/^Reason/), { target: { value: 'first models' } });
    fireEvent.click(screen.getByRole('button', { name: 'Move to production' }));
    await waitFor(() => expect(promoted).toEqual([4, 2]));
    expect(calls.filter((c) => c.url.endsWith('/stage')).map((c) => c.data)).toEqual([
      { stage: 'production', reason: 'first models' },
      { stage: 'production', reason: 'first models' },
    ]);
    expect(await screen.findByText('Every entity is scored')).toBeInTheDocument();
  });

  it('tells a viewer who fixes an entity that is not scored', async () => {
    open('Viewer', { 'GET detectors/cpu/models': [version(2, 'candidate', 'web-2')] });
    expect(await screen.findByText('1 of 1 entity is not scored yet: web-2')).toBeInTheDocument();
    expect(screen.getByText(/An admin promotes a version/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Promote/ })).not.toBeInTheDocument();
  });

  it('tells an editor of a detector without models to train', async () => {
    open('Editor', { 'GET detectors/cpu/models': [], 'GET detectors/cpu/jobs': [] });
    expect(await screen.findByText('Nothing is scored yet: there is no model')).toBeInTheDocument();
    expect(screen.getByText(/Press Train above/)).toBeInTheDocument();
  });
});

describe('scoring helpers', () => {
  it('finds the entities without a production version and the version to promote', () => {
    expect(
      unscored([version(1, 'production'), version(3, 'archived', 'a'), version(2, 'candidate', 'a')]).map(
        (u) => `${u.entity} v${u.newest.version}`
      )
    ).toEqual(['a v2']);
    expect(unscored([version(1, 'production', '')])).toEqual([]);
  });

  it("names a stage change's entity from the history or, failing that, the version", () => {
    const models = [version(1, 'production', 'a'), version(2, 'candidate', 'b'), version(2, 'candidate', 'c')];
    expect(entityOf({ version: 1 }, models)).toBe('a');
    expect(entityOf({ version: 1, entity: 'x' }, models)).toBe('x');
    // Version 2 is both b's and c's (numbered per entity): the history alone would have to say.
    expect(entityOf({ version: 2 }, models)).toBeUndefined();
    expect(entityOf({ version: 9 }, models)).toBeUndefined();
  });
});

describe('DetectorDetail backfill', () => {
  it('scores a past range as a job, for editors', async () => {
    const { calls } = open('Editor', {
      'POST detectors/cpu/backfill': () => ({ status: 202, data: { ...job('queued', 0), kind: 'backfill' } }),
    });
    fireEvent.click(await screen.findByRole('tab', { name: 'Training runs' }));
    fireEvent.click(screen.getByRole('radio', { name: '2 d' }));
    fireEvent.click(screen.getByRole('button', { name: /Backfill/ }));
    await waitFor(() => expect(calls.some((c) => c.url.endsWith('/backfill'))).toBe(true));
    const { from, to } = calls.find((c) => c.url.endsWith('/backfill'))!.data as { from: string; to: string };
    expect(Date.parse(to) - Date.parse(from)).toBe(48 * 3600_000);
  });
});

describe('DetectorDetail delete', () => {
  it('goes to the list once deleted, and stays with the reason when refused', async () => {
    let refuse = true;
    open('Admin', {
      'DELETE admin/detectors/cpu': () =>
        refuse
          ? { status: 403, data: { message: "this needs the admin role; the token 'grafana' is editor" } }
          : { status: 204 },
    });
    fireEvent.click(await screen.findByRole('button', { name: /Delete/ }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText(/Not allowed: this needs the admin role/)).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/detectors/cpu');
    refuse = false;
    fireEvent.click(screen.getByRole('button', { name: /Delete/ }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/a/isoscope-anomaly-app/detectors'));
  });
});

import React from 'react';
import { screen, within } from '@testing-library/react';
import { detector } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { Detectors } from './Detectors';

const explicit = {
  ...detector,
  id: 'disk',
  name: 'disk',
  spec: {
    ...detector.spec,
    source: { measurement: 'disk', fields: [{ field: 'used_percent', aggregate: 'max' as const }] },
  },
};

describe('Detectors page', () => {
  it('lists detectors with what they read, and offers a new one to editors', async () => {
    renderPage(<Detectors />, {
      route: '/detectors',
      url: '/detectors',
      role: 'Editor',
      answer: routes({ 'GET detectors': [detector, explicit] }),
    });
    expect(await screen.findByText('cpu (Telegraf preset), every 60 s')).toBeInTheDocument();
    expect(screen.getByText('disk: used_percent, every 60 s')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'cpu' })).toHaveAttribute('href', '/a/isoscope-anomaly-app/detectors/cpu');
    expect(screen.getByRole('link', { name: /New detector/ })).toBeInTheDocument();
  });

  it('shows the health of each detector: scoring and how far behind, failing, training failed, drifted', async () => {
    const base = {
      checkedAt: '2026-03-02T00:00:00.000Z',
      lagLimits: { lagging: 360, stalled: 1200 },
      since: '2026-03-01T00:00:00.000Z',
      rowsScored: 10,
      anomalies: 0,
      failures: { total: 0, consecutive: 0 },
      drift: { state: 'stable', driftedEntities: [] },
      entities: [],
    };
    renderPage(<Detectors />, {
      route: '/detectors',
      url: '/detectors',
      answer: routes({
        'GET detectors': [detector, explicit],
        'GET detectors/cpu/health': {
          ...base,
          detector: 'cpu',
          state: 'ok',
          reason: '2 of 2 entities scored',
          lagSeconds: 90,
        },
        'GET detectors/disk/health': {
          ...base,
          detector: 'disk',
          state: 'failing',
          reason: 'the last scoring attempt failed: InfluxDB unreachable',
          lastTraining: { jobId: 'j', state: 'failed', at: '2026-03-01T00:00:00.000Z', error: 'no data' },
          drift: { state: 'drifted', driftedEntities: ['web-1'] },
        },
      }),
    });
    await screen.findByText('cpu (Telegraf preset), every 60 s');
    const [cpu, disk] = ['cpu', 'disk'].map((name) =>
      screen.getAllByRole('row').find((r) => within(r).queryByText(name))
    );
    expect(await within(cpu!).findByText('scoring')).toBeInTheDocument();
    expect(within(cpu!).getByText('90 s behind')).toBeInTheDocument();
    expect(await within(disk!).findByText('failing')).toBeInTheDocument();
    expect(within(disk!).getByText('training failed')).toBeInTheDocument();
    expect(within(disk!).getByText('drifted')).toBeInTheDocument();
  });

  it('says when a detector health cannot be read', async () => {
    renderPage(<Detectors />, {
      route: '/detectors',
      url: '/detectors',
      answer: routes({ 'GET detectors': [detector] }),
    });
    expect(await screen.findByText(/^unknown \(/)).toBeInTheDocument();
  });

  it('hides creation from viewers and explains an empty list', async () => {
    renderPage(<Detectors />, {
      route: '/detectors',
      url: '/detectors',
      role: 'Viewer',
      answer: routes({ 'GET detectors': [] }),
    });
    expect(await screen.findByText('No detectors yet')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /New detector/ })).not.toBeInTheDocument();
  });

  it('says why the list is missing when the service cannot be reached', async () => {
    renderPage(<Detectors />, { route: '/detectors', url: '/detectors', answer: () => ({ status: 502, data: {} }) });
    expect(await screen.findByText(/unreachable \(HTTP 502\)/)).toBeInTheDocument();
  });
});

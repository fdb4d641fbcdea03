import React from 'react';
import { screen, within } from '@testing-library/react';
import { detector, incident, job, version } from '../../test/fixtures';
import type { Call } from '../../test/fakeBackend';
import { renderPage, routes } from '../../test/renderPage';
import { Overview } from './Overview';

const anomaly = (entity: string, score: number, time: string) => ({
  time,
  entity,
  score,
  severity: 'high',
  modelVersion: 2,
});

const noIncidents = () => ({ data: [] });

describe('Overview', () => {
  it('leads with the incidents firing now and those resolved in the last day, each explained at its peak', async () => {
    const firing = incident('f1', { state: 'firing', entity: 'web-2', start: '2026-03-01T11:50:00.000Z' });
    const { calls } = renderPage(<Overview />, {
      route: '/overview',
      url: '/overview',
      role: 'Viewer',
      answer: routes({
        'GET detectors': [detector],
        'GET incidents': (call: Call) => ({
          data:
            new URLSearchParams(call.url.split('?')[1]).get('state') === 'firing'
              ? [firing]
              : [incident('r1'), incident('r2', { entity: 'db-1' })],
        }),
        'GET detectors/cpu/models': [version(2, 'production')],
        'GET detectors/cpu/jobs': [],
        'GET detectors/cpu/anomalies': [],
      }),
    });
    expect(await screen.findByText(/1 incident firing now, 2 resolved in the last 24 hours/)).toBeInTheDocument();
    const now = screen.getByRole('region', { name: 'Firing now' });
    const rows = within(now).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(1);
    expect(within(rows[0]!).getByText('web-2')).toBeInTheDocument();
    expect(within(rows[0]!).getByRole('link', { name: 'Explain' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-2&time=2026-03-01T10%3A20%3A00.000Z&incident=f1'
    );
    const day = screen.getByRole('region', { name: 'Incidents in the last 24 hours' });
    expect(
      within(day)
        .getAllByRole('row')
        .slice(1)
        .map((r) => within(r).getAllByRole('cell')[1]!.textContent)
    ).toEqual(['web-1', 'db-1']);
    // Firing ones whenever they started; resolved ones over the last day.
    const asked = calls
      .filter((c) => c.url.includes('/api/incidents'))
      .map((c) => new URLSearchParams(c.url.split('?')[1]));
    const resolvedCall = asked.find((p) => p.get('state') === 'resolved')!;
    expect(Date.parse(resolvedCall.get('to')!) - Date.parse(resolvedCall.get('from')!)).toBe(24 * 3600 * 1000);
    expect(asked.find((p) => p.get('state') === 'firing')!.get('from')).toBeNull();
    // The page tops the detector table.
    const regions = screen.getAllByRole('region').map((r) => r.getAttribute('aria-label'));
    expect(regions.slice(0, 3)).toEqual(['Firing now', 'Incidents in the last 24 hours', 'Detectors']);
  });

  it('shows detector health, the day’s anomalies and the most anomalous entities with drill-down links', async () => {
    const { calls } = renderPage(<Overview />, {
      route: '/overview',
      url: '/overview',
      role: 'Viewer',
      answer: routes({
        'GET detectors': [detector],
        'GET incidents': noIncidents,
        'GET detectors/cpu/models': [version(2, 'production'), version(1, 'candidate', 'web-2')],
        'GET detectors/cpu/jobs': [job('failed', 0.5)],
        'GET detectors/cpu/anomalies': [
          anomaly('web-1', 0.7, '2026-03-01T10:00:00.000Z'),
          anomaly('web-1', 0.9, '2026-03-01T11:00:00.000Z'),
          anomaly('web-2', 0.95, '2026-03-01T12:00:00.000Z'),
        ],
      }),
    });
    expect(
      await screen.findByText(
        /0 incidents firing now, 0 resolved in the last 24 hours \(3 anomalous points\), 1 detector/
      )
    ).toBeInTheDocument();
    expect(screen.getByText('Nothing is firing.')).toBeInTheDocument();
    const detectors = screen.getByRole('region', { name: 'Detectors' });
    expect(within(detectors).getByText('1 of 2 entities')).toBeInTheDocument();
    expect(within(detectors).getByText('not scored: web-2')).toBeInTheDocument();
    expect(within(detectors).getByText('training failed')).toBeInTheDocument();
    const top = screen.getByRole('region', { name: 'Most anomalous entities' });
    const rows = within(top).getAllByRole('row').slice(1);
    expect(within(rows[0]!).getByText('web-1')).toBeInTheDocument();
    expect(within(rows[0]!).getByRole('link', { name: 'Explain the peak' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=2026-03-01T11%3A00%3A00.000Z'
    );
    const anomaliesCall = calls.find((c) => c.url.includes('/anomalies'))!;
    const params = new URLSearchParams(anomaliesCall.url.split('?')[1]);
    expect(Date.parse(params.get('to')!) - Date.parse(params.get('from')!)).toBe(24 * 3600 * 1000);
  });

  it('explains the peak of the smoothed score of the worst stretch, not a one-minute blip', async () => {
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    const time = Array.from({ length: 30 }, (_, i) => t0 + i * 60_000);
    // A blip at 0.95 (minute 5); a 10-minute stretch at 0.85–0.88 from minute 15, peaking at minute 20.
    const score: number[] = time.map((_, i) => (i === 5 ? 0.95 : i >= 15 && i < 25 ? (i === 20 ? 0.88 : 0.85) : 0.4));
    const flagged = score.map((v) => v > 0.6);
    const labels = { detector: 'cpu', entity: 'web-1' };
    renderPage(<Overview />, {
      route: '/overview',
      url: '/overview',
      answer: routes({
        'GET detectors': [detector],
        'GET incidents': noIncidents,
        'GET detectors/cpu/models': [version(2, 'production')],
        'GET detectors/cpu/jobs': [],
        'GET detectors/cpu/anomalies': time
          .filter((_, i) => flagged[i])
          .map((t) => anomaly('web-1', score[time.indexOf(t)]!, new Date(t).toISOString())),
        'POST grafana/query': {
          frames: [
            {
              refId: 'A',
              fields: [
                { name: 'time', type: 'time', values: time },
                { name: 'score', type: 'number', values: score, labels },
                { name: 'anomaly', type: 'boolean', values: flagged, labels },
              ],
            },
          ],
        },
      }),
    });
    const link = await screen.findByRole('link', { name: 'Explain the peak' });
    expect(link).toHaveAttribute(
      'href',
      `/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=${encodeURIComponent(new Date(t0 + 20 * 60_000).toISOString())}`
    );
    expect(
      within(screen.getByRole('region', { name: 'Most anomalous entities' })).getByText('0.950')
    ).toBeInTheDocument();
  });
});

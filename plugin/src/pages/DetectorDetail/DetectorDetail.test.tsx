import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { detector, job, version } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { DetectorDetail } from './DetectorDetail';

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

describe('DetectorDetail', () => {
  it("shows each entity's versions side by side with their numbers", async () => {
    open('Viewer');
    const web1 = await screen.findByRole('region', { name: 'Models of web-1' });
    const rows = within(web1).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['v3', 'v2', 'v1']);
    expect(within(rows[0]!).getByText('candidate')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('0.930')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('0.70%')).toBeInTheDocument();
    expect(within(rows[0]!).getAllByRole('cell')[4]).toHaveTextContent('0.610 (alert-budget)');
    expect(screen.getByRole('region', { name: 'Models of web-2' })).toBeInTheDocument();
    // A viewer sees no stage actions, and cannot train.
    expect(screen.queryByRole('button', { name: 'Promote' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: /Train/ })).toHaveAttribute('aria-disabled', 'true');
  });

  it('promotes a version only with a reason, and the service gets the reason', async () => {
    const { calls } = open('Admin', { 'POST admin/detectors/cpu/models/3/stage': { version: 3, to: 'production' } });
    const web1 = await screen.findByRole('region', { name: 'Models of web-1' });
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
    const web1 = await screen.findByRole('region', { name: 'Models of web-1' });
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
    expect(screen.getByText('first model')).toBeInTheDocument();
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

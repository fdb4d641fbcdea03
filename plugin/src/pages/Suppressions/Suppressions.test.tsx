import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { Suppression, SuppressionRequest } from '../../api/types';
import type { Call } from '../../test/fakeBackend';
import { detector } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { choose } from '../../test/select';
import { Suppressions } from './Suppressions';

const backups: Suppression = {
  id: 's1',
  detector: 'cpu',
  entity: 'db-1',
  metric: 'usage_iowait',
  kind: 'daily',
  from: '02:00',
  to: '03:30',
  reason: 'nightly backup',
  actor: 'ann',
  createdAt: '2026-03-01T09:00:00.000Z',
};
const maintenance: Suppression = {
  id: 's2',
  kind: 'period',
  from: '2026-03-07T22:00:00.000Z',
  to: '2026-03-08T02:00:00.000Z',
  reason: 'datacentre move',
  actor: 'bob',
  createdAt: '2026-03-02T10:00:00.000Z',
};

/** A service holding `rules`: GET lists them, POST adds one, DELETE removes one. */
function service(rules: Suppression[], refuse?: { status: number; message: string }) {
  return routes({
    'GET detectors': [{ ...detector, name: 'CPU of the web hosts' }],
    'GET suppressions': () => ({ data: [...rules] }),
    'POST suppressions': (call: Call) => {
      if (refuse) {
        return { status: refuse.status, data: { message: refuse.message } };
      }
      const { applySince, ...request } = call.data as SuppressionRequest;
      const added = {
        ...request,
        id: `s${rules.length + 1}`,
        actor: 'editor',
        createdAt: '2026-03-03T00:00:00.000Z',
      };
      rules.push(added);
      // As the service answers a rule applied to recorded incidents: two changed, one of them newly suppressed.
      const applied = applySince ? { applied: { since: applySince, incidents: 2, suppressed: 1 } } : {};
      return { status: 201, data: { ...added, ...applied } };
    },
    'DELETE suppressions/s1': () => {
      rules.splice(
        rules.findIndex((r) => r.id === 's1'),
        1
      );
      return { status: 204 };
    },
  });
}

const field = (id: string) => document.getElementById(id) as HTMLInputElement;
const type = (id: string, value: string) => fireEvent.change(field(id), { target: { value } });

describe('Suppressions', () => {
  it('lists the rules in words: what each applies to, when, why, who added it and when', async () => {
    renderPage(<Suppressions />, {
      route: '/suppressions',
      url: '/suppressions',
      role: 'Viewer',
      answer: service([backups, maintenance]),
    });
    const table = await screen.findByRole('region', { name: 'Suppression rules' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByRole('link', { name: 'CPU of the web hosts' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/detectors/cpu'
    );
    expect(rows[0]).toHaveTextContent('db-1');
    expect(within(rows[0]!).getByTitle('Feature usage_iowait')).toHaveTextContent('usage_iowait');
    expect(rows[0]).toHaveTextContent('every day 02:00 – 03:30 UTC');
    expect(rows[0]).toHaveTextContent('nightly backup');
    expect(rows[0]).toHaveTextContent('ann, 2026-03-01 09:00:00');
    expect(rows[1]).toHaveTextContent('detector every oneentity every onemetric any');
    expect(rows[1]).toHaveTextContent('Maintenance from 2026-03-07 22:00:00 to 2026-03-08 02:00:00 UTC (over)');
    // Viewers read; adding and deleting need an editor.
    expect(screen.getByText(/needs the Editor role/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'New rule' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Delete/ })).not.toBeInTheDocument();
  });

  it('checks the form before sending, then adds the rule and lists it', async () => {
    const rules: Suppression[] = [];
    const { calls } = renderPage(<Suppressions />, {
      route: '/suppressions',
      url: '/suppressions',
      role: 'Editor',
      answer: service(rules),
    });
    expect(await screen.findByText(/No rules yet/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'New rule' }));
    await act(async () => fireEvent.click(await screen.findByRole('button', { name: 'Add rule' })));
    expect(screen.getByText('Say when it starts: a time of day as HH:MM')).toBeInTheDocument();
    expect(screen.getByText(/Say why/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    await choose('rule-detector', 'CPU of the web hosts');
    type('rule-entity', 'db-1');
    type('rule-metric', 'usage_iowait.z60');
    expect(screen.getByText('Flagged points that usage_iowait, vs its last hour explained most')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('radio', { name: 'Every week' }));
    type('rule-from', 'Sat 22:00');
    type('rule-to', '06:00');
    type('rule-reason', 'weekend batch');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add rule' })));
    expect(screen.getByText("'06:00' is not a day and a time, such as 'Sat 22:00' (UTC)")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    type('rule-to', 'Sun 06:00');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add rule' })));
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      {
        method: 'POST',
        url: '/api/datasources/proxy/uid/isoscope/api/suppressions',
        data: {
          detector: 'cpu',
          entity: 'db-1',
          metric: 'usage_iowait.z60',
          kind: 'weekly',
          from: 'Sat 22:00',
          to: 'Sun 06:00',
          reason: 'weekend batch',
        },
      },
    ]);
    expect(await screen.findByText('Rule added: weekend batch')).toBeInTheDocument();
    const table = await screen.findByRole('region', { name: 'Suppression rules' });
    expect(table).toHaveTextContent('every week Sat 22:00 – Sun 06:00 UTC');
    expect(screen.queryByRole('form', { name: 'New suppression rule' })).not.toBeInTheDocument();
  });

  it('applies a new rule to incidents already recorded when ticked, since the period it covers, and says what it did', async () => {
    const { calls } = renderPage(<Suppressions />, {
      route: '/suppressions',
      url: '/suppressions?add=1',
      role: 'Editor',
      answer: service([]),
    });
    await screen.findByRole('form', { name: 'New suppression rule' });
    // The page says what deleting does before anyone deletes.
    expect(screen.getByText(/Deleting a rule does not un-suppress the incidents it suppressed/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole('radio', { name: 'Maintenance period' }));
    type('rule-from', '2026-03-07 22:00');
    type('rule-to', '2026-03-08 02:00');
    type('rule-reason', 'datacentre move');
    // Off by default; ticked, it starts at the period's start.
    expect(field('rule-apply').checked).toBe(false);
    expect(field('rule-since')).toBeNull();
    fireEvent.click(field('rule-apply'));
    expect(field('rule-since').value).toBe('2026-03-07 22:00');
    type('rule-since', 'last week');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add rule' })));
    expect(screen.getByText("'last week' is not a date and time as YYYY-MM-DD HH:MM (UTC)")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
    type('rule-since', '2026-03-07 21:00');
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add rule' })));
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.data)).toEqual([
      {
        kind: 'period',
        from: '2026-03-07T22:00:00.000Z',
        to: '2026-03-08T02:00:00.000Z',
        reason: 'datacentre move',
        applySince: '2026-03-07T21:00:00.000Z',
      },
    ]);
    expect(
      await screen.findByText(
        'Rule added: datacentre move. Since 2026-03-07 21:00:00 UTC: 1 incident now suppressed (firing ones stop alerting); 1 already suppressed now names this rule too.'
      )
    ).toBeInTheDocument();
  });

  it("shows the service's reason when it refuses a rule, and keeps the form", async () => {
    renderPage(<Suppressions />, {
      route: '/suppressions',
      url: '/suppressions?add=1',
      role: 'Editor',
      answer: service([], { status: 404, message: "detector 'gone' not found" }),
    });
    await screen.findByRole('form', { name: 'New suppression rule' });
    fireEvent.click(screen.getByRole('radio', { name: 'Maintenance period' }));
    type('rule-from', '2026-12-05 22:00');
    type('rule-to', '2026-12-06 02:00');
    type('rule-reason', 'move');
    // Typed in UTC, echoed in the user's time zone (UTC in these tests).
    expect(screen.getByText('2026-12-05 22:00:00 in your time zone')).toBeInTheDocument();
    expect(screen.getByText('2026-12-06 02:00:00 in your time zone')).toBeInTheDocument();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Add rule' })));
    expect(await screen.findByText("detector 'gone' not found")).toBeInTheDocument();
    expect(screen.getByText('The rule was not added')).toBeInTheDocument();
    expect(field('rule-reason').value).toBe('move');
  });

  it("opens the form filled in from an incident's 'Suppress similar…'", async () => {
    renderPage(<Suppressions />, {
      route: '/suppressions',
      url: '/suppressions?add=1&detector=cpu&entity=web-1&metric=usage_user&since=2026-03-01T10%3A00%3A00.000Z',
      role: 'Editor',
      answer: service([]),
    });
    await screen.findByRole('form', { name: 'New suppression rule' });
    expect(await screen.findByText('CPU of the web hosts')).toBeInTheDocument();
    expect(field('rule-entity').value).toBe('web-1');
    expect(field('rule-metric').value).toBe('usage_user');
    // Not applied to recorded incidents unless ticked; ticked, it starts at the incident's start.
    expect(field('rule-apply').checked).toBe(false);
    fireEvent.click(field('rule-apply'));
    expect(field('rule-since').value).toBe('2026-03-01 10:00');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/suppressions'));
    expect(screen.queryByRole('form', { name: 'New suppression rule' })).not.toBeInTheDocument();
  });

  it('deletes a rule once confirmed', async () => {
    const rules = [backups, maintenance];
    const { calls } = renderPage(<Suppressions />, {
      route: '/suppressions',
      url: '/suppressions',
      role: 'Editor',
      answer: service(rules),
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete the rule: nightly backup' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent(
      '"nightly backup" (every day 02:00 – 03:30 UTC). Flagged points in its window will page again'
    );
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' })));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual([
      '/api/datasources/proxy/uid/isoscope/api/suppressions/s1',
    ]);
    expect(await screen.findByText('Rule deleted: nightly backup')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Delete the rule: nightly backup' })).toBeNull());
    expect(screen.getByRole('button', { name: 'Delete the rule: datacentre move' })).toBeInTheDocument();
  });
});

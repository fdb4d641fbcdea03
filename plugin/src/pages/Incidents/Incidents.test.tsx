import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { detector, incident } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { choose } from '../../test/select';
import type { Call } from '../../test/fakeBackend';
import { duration, Incidents } from './Incidents';

const params = (url: string) => new URLSearchParams(url.split('?')[1]);

describe('Incidents', () => {
  it('lists incidents with state, duration, severity, what explained them and a link that explains the peak', async () => {
    const { calls } = renderPage(<Incidents />, {
      route: '/incidents',
      url: '/incidents',
      role: 'Viewer',
      answer: routes({
        'GET detectors': [{ ...detector, name: 'CPU of the web hosts' }],
        'GET incidents': [
          incident('i2', {
            state: 'firing',
            entity: 'web-2',
            start: '2026-03-01T11:00:00.000Z',
            end: '2026-03-01T11:03:00.000Z',
            suppressed: true,
          }),
          incident('i1', {
            feedback: { verdict: 'expected', note: 'load test', actor: 'ann', at: '2026-03-01T12:00:00.000Z' },
          }),
        ],
      }),
    });
    expect(await screen.findByText(/2 incidents up to .*, 1 firing/)).toBeInTheDocument();
    const rows = screen.getAllByRole('row').slice(1);
    expect(within(rows[0]!).getByText('firing')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('suppressed')).toBeInTheDocument();
    expect(within(rows[0]!).getByText('3 min')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('48 min')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('high')).toBeInTheDocument();
    expect(
      within(rows[1]!).getByText('usage_user (30 of 40), usage_idle, vs its last hour (10 of 40)')
    ).toBeInTheDocument();
    expect(within(rows[1]!).getByText('Expected')).toBeInTheDocument();
    expect(within(rows[1]!).getByRole('link', { name: 'CPU of the web hosts' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/detectors/cpu'
    );
    expect(within(rows[1]!).getByRole('link', { name: 'Explain' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=2026-03-01T10%3A20%3A00.000Z&incident=i1'
    );
    // Viewers see verdicts, not the buttons that give them.
    expect(screen.queryByRole('button', { name: 'Real' })).not.toBeInTheDocument();
    // The default window: the last 7 days.
    const q = params(calls.find((c) => c.url.includes('/api/incidents'))!.url);
    expect(Date.parse(q.get('to')!) - Date.parse(q.get('from')!)).toBe(7 * 24 * 3600 * 1000);
  });

  it('filters by detector, entity, severity, state and time, keeping the filters in the URL', async () => {
    const { calls } = renderPage(<Incidents />, {
      route: '/incidents',
      url: '/incidents?state=firing',
      answer: routes({ 'GET detectors': [detector], 'GET incidents': [] }),
    });
    expect(await screen.findByText(/0 incidents/)).toBeInTheDocument();
    const last = () => params(calls.filter((c) => c.url.includes('/api/incidents')).at(-1)!.url);
    expect(last().get('state')).toBe('firing');
    await choose('incidents-detector', 'cpu');
    await waitFor(() => expect(last().get('detector')).toBe('cpu'));
    await choose('incidents-severity', 'High or worse');
    await waitFor(() => expect(last().get('severity')).toBe('high'));
    const entity = screen.getByPlaceholderText('All entities');
    fireEvent.change(entity, { target: { value: 'web-3' } });
    fireEvent.blur(entity);
    await waitFor(() => expect(last().get('entity')).toBe('web-3'));
    fireEvent.click(screen.getByRole('radio', { name: 'Resolved' }));
    await waitFor(() => expect(last().get('state')).toBe('resolved'));
    fireEvent.click(screen.getByRole('radio', { name: '24 hours' }));
    await waitFor(() => expect(Date.parse(last().get('to')!) - Date.parse(last().get('from')!)).toBe(24 * 3600 * 1000));
    expect(screen.getByTestId('location').textContent).toBe(
      '/incidents?state=resolved&detector=cpu&severity=high&entity=web-3&hours=24'
    );
  });

  it('lets an editor mark an incident real, expected or not an anomaly, with a note', async () => {
    const { calls } = renderPage(<Incidents />, {
      route: '/incidents',
      url: '/incidents',
      role: 'Editor',
      answer: routes({
        'GET detectors': [detector],
        'GET incidents': [incident('i1')],
        'POST incidents/i1/feedback': (call: Call) => ({
          status: 201,
          data: { ...(call.data as object), actor: 'editor', at: '2026-03-02T00:00:00.000Z' },
        }),
      }),
    });
    const row = (await screen.findAllByRole('row'))[1]!;
    expect(within(row).getByText('no verdict')).toBeInTheDocument();
    fireEvent.change(within(row).getByLabelText('Note'), { target: { value: ' nightly backup ' } });
    // The page renders again (another window, the same incidents): the note being typed stays.
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: '30 days' })));
    await act(async () => fireEvent.click(within(row).getByRole('button', { name: 'Not an anomaly' })));
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({
      url: '/api/datasources/proxy/uid/isoscope/api/incidents/i1/feedback',
      data: { verdict: 'not_anomaly', note: 'nightly backup' },
    });
    // The badge joins the button of the same name.
    await waitFor(() => expect(within(row).getAllByText('Not an anomaly')).toHaveLength(2));
    expect(within(row).queryByText('no verdict')).not.toBeInTheDocument();
  });

  it('names the rule the service recorded with a suppressed incident, without reading the rules', async () => {
    const { calls } = renderPage(<Incidents />, {
      route: '/incidents',
      url: '/incidents',
      role: 'Viewer',
      answer: routes({
        'GET detectors': [detector],
        'GET incidents': [
          // The recorded rule wins over any rule that would seem to hold the incident today.
          incident('i1', { suppressed: true, suppressedBy: { rule: 's9', reason: 'nightly backup' } }),
          incident('i2', { entity: 'web-2' }),
          // Two rules covered this one between them.
          incident('i3', {
            entity: 'web-3',
            suppressed: true,
            suppressedBy: { rule: 's9', reason: 'nightly backup' },
            suppressedByAll: [
              { rule: 's9', reason: 'nightly backup' },
              { rule: 's10', reason: 'deploy window' },
            ],
          }),
        ],
      }),
    });
    const rows = (await screen.findAllByRole('row')).slice(1);
    expect(
      within(rows[2]!).getByRole('link', { name: 'by the rules: nightly backup; deploy window' })
    ).toBeInTheDocument();
    expect(within(rows[0]!).getByText('suppressed')).toBeInTheDocument();
    expect(within(rows[0]!).getByRole('link', { name: 'by the rule: nightly backup' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/suppressions'
    );
    expect(within(rows[1]!).queryByRole('link', { name: /by the rule/ })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.url.includes('/api/suppressions'))).toEqual([]);
  });

  it("names the rule that kept an older suppressed incident quiet, and offers 'Suppress similar…' to editors", async () => {
    const { calls } = renderPage(<Incidents />, {
      route: '/incidents',
      url: '/incidents',
      role: 'Editor',
      answer: routes({
        'GET detectors': [detector],
        'GET incidents': [
          // Recorded before the service named the rule: 10:00–10:48 UTC, inside the morning rule; the
          // next is suppressed by rules no single one of which holds it; the last names its own.
          incident('i1', { suppressed: true }),
          incident('i2', { suppressed: true, entity: 'web-2' }),
          incident('i3', { entity: 'web-3' }),
          incident('i4', { suppressed: true, entity: 'web-4', suppressedBy: { rule: 's0', reason: 'deleted rule' } }),
        ],
        'GET suppressions': [
          {
            id: 's1',
            entity: 'web-1',
            kind: 'daily',
            from: '09:30',
            to: '11:00',
            reason: 'morning batch',
            actor: 'ann',
            createdAt: '2026-02-01T00:00:00.000Z',
          },
          {
            id: 's2',
            entity: 'web-2',
            kind: 'daily',
            from: '10:00',
            to: '10:30',
            reason: 'half of it',
            actor: 'ann',
            createdAt: '2026-02-01T00:00:00.000Z',
          },
        ],
      }),
    });
    const rows = (await screen.findAllByRole('row')).slice(1);
    expect(await within(rows[0]!).findByRole('link', { name: 'by the rule: morning batch' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/suppressions'
    );
    expect(within(rows[1]!).getByText('suppressed')).toBeInTheDocument();
    expect(within(rows[1]!).queryByRole('link', { name: /by the rule/ })).not.toBeInTheDocument();
    expect(within(rows[2]!).queryByText('suppressed')).not.toBeInTheDocument();
    expect(within(rows[2]!).getByRole('link', { name: 'Suppress similar…' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/suppressions?add=1&detector=cpu&entity=web-3&metric=usage_user&since=2026-03-01T10%3A00%3A00.000Z'
    );
    expect(within(rows[3]!).getByRole('link', { name: 'by the rule: deleted rule' })).toBeInTheDocument();
    expect(calls.filter((c) => c.url.endsWith('/api/suppressions'))).toHaveLength(1);
  });

  it('reads no rules when no incident is suppressed, and offers viewers no rule to add', async () => {
    const { calls } = renderPage(<Incidents />, {
      route: '/incidents',
      url: '/incidents',
      role: 'Viewer',
      answer: routes({ 'GET detectors': [detector], 'GET incidents': [incident('i1')] }),
    });
    await screen.findAllByRole('link', { name: 'Explain' });
    expect(screen.queryByRole('link', { name: 'Suppress similar…' })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.url.includes('/api/suppressions'))).toEqual([]);
  });

  it('says how long an incident lasted in words', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1) + m * 60000).toISOString();
    expect(duration({ start: at(0), end: at(0) })).toBe('under a minute');
    expect(duration({ start: at(0), end: at(48) })).toBe('48 min');
    expect(duration({ start: at(0), end: at(120) })).toBe('2 h');
    expect(duration({ start: at(0), end: at(190) })).toBe('3 h 10 min');
  });
});

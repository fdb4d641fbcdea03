import React from 'react';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { detector, explanation, incident, version } from '../../test/fixtures';
import type { Call } from '../../test/fakeBackend';
import { renderPage, routes } from '../../test/renderPage';
import { Explain, parseTime } from './Explain';

describe('Explain', () => {
  it('explains one moment: contributions, values against training, raw series and links', async () => {
    const { calls } = renderPage(<Explain />, {
      route: '/explain',
      url: `/explain?detector=cpu&entity=web-1&time=${Date.parse('2026-03-01T12:00:00Z')}`,
      answer: routes({ 'GET detectors/cpu/explain': explanation }),
    });
    expect(await screen.findByText('anomalous')).toBeInTheDocument();
    expect(calls[0]!.url).toBe(
      '/api/datasources/proxy/uid/isoscope/api/detectors/cpu/explain?entity=web-1&time=2026-03-01T12%3A00%3A00.000Z'
    );
    const bars = within(screen.getByRole('list', { name: 'Feature contributions' })).getAllByRole('listitem');
    expect(bars.map((b) => b.getAttribute('aria-label'))).toEqual([
      'usage_user 70%',
      'usage_system 25%',
      'usage_iowait 5%',
    ]);
    expect(screen.getByLabelText('percentile 99.9')).toBeInTheDocument();
    // Told by the model that scored it, and each value against the range its trees learnt.
    expect(screen.getByTestId('provenance')).toHaveTextContent(
      'Explained by the model that scored it: replayed from its checkpoint over the 719 points since (2026-03-01 00:00:00), it gives the same score. The score came from the forest that judges levels (values, their recent past, their hour), 100 trees.'
    );
    const table = screen.getByRole('region', { name: 'Against training' });
    const ranges = within(table).getAllByTestId('learnt-range');
    expect(ranges.map((r) => r.textContent)).toEqual(['1.5 – 41 above it', '0.5 – 12']);
    expect(within(table).getAllByText('—')).toHaveLength(1);
    expect(screen.getByRole('img', { name: 'usage_user around the anomaly' })).toBeInTheDocument();
    const explore = screen.getByRole('link', { name: /Explore/ }).getAttribute('href')!;
    const panes = JSON.parse(new URLSearchParams(explore.split('?')[1]).get('panes')!);
    expect(panes.a.queries.map((q: { return: string; entity: string }) => [q.return, q.entity])).toEqual([
      ['features', 'web-1'],
      ['score', 'web-1'],
    ]);
    expect(screen.getByRole('link', { name: /Host dashboard/ })).toHaveAttribute(
      'href',
      `/d/isoscope-host-drilldown?var-host=web-1&from=${Date.parse('2026-03-01T11:00:00Z')}&to=${Date.parse('2026-03-01T13:00:00Z')}`
    );
  });

  it("names the model by its entity's version number, the detector-wide id on hover", async () => {
    renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-2&time=2026-03-01T12:00:00Z',
      answer: routes({
        // The explanation's modelVersion is the registry id 2: web-2's first version.
        'GET detectors/cpu/explain': { ...explanation, entity: 'web-2' },
        'GET detectors/cpu/models': [
          { ...version(1, 'production', 'web-1'), entityVersion: 1 },
          { ...version(2, 'production', 'web-2'), entityVersion: 1 },
        ],
      }),
    });
    const label = await screen.findByTestId('model-version');
    await waitFor(() => expect(label).toHaveTextContent(/^v1$/));
    expect(label).toHaveAttribute('title', 'version id 2');
    expect(label.parentElement).toHaveTextContent(/model v1 of cpu/);
  });

  it('speaks plainly: features in words (the raw name on hover), no path lengths, one date format', async () => {
    const z = { ...explanation.contributions[0]!, feature: 'usage_user.z60', share: 0.6 };
    renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-1&time=2026-03-01T12:00:00Z',
      answer: routes({
        'GET detectors/cpu/explain': {
          ...explanation,
          contributions: [z, ...explanation.contributions.slice(1)],
          series: { ...explanation.series, fields: ['usage_user.z60', 'usage_system', 'usage_iowait'] },
        },
        'GET detectors/cpu': { ...detector, name: 'CPU of the web hosts' },
      }),
    });
    const bars = await screen.findByRole('list', { name: 'Feature contributions' });
    await waitFor(() =>
      expect(within(bars).getAllByRole('listitem')[0]).toHaveAttribute('aria-label', 'usage_user, vs its last hour 60%')
    );
    expect(within(bars).getByTitle('usage_user.z60')).toHaveTextContent('usage_user, vs its last hour');
    const table = screen.getByRole('region', { name: 'Against training' });
    expect(within(table).getByText('usage_user, vs its last hour')).toHaveAttribute('data-feature', 'usage_user.z60');
    expect(screen.getByRole('img', { name: 'usage_user, vs its last hour around the anomaly' })).toBeInTheDocument();
    expect(document.body.textContent).not.toMatch(/path length|\.z60 /i);
    expect(screen.getByRole('link', { name: 'CPU of the web hosts' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/detectors/cpu'
    );
    expect(screen.getByText('web-1 at 2026-03-01 12:00:00')).toBeInTheDocument();
  });

  it('opened from an incident, says which and lets an editor give a verdict', async () => {
    const { calls } = renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-1&time=2026-03-01T10:20:00.000Z&incident=i1',
      role: 'Editor',
      answer: routes({
        'GET detectors/cpu/explain': explanation,
        'GET incidents/i1': { ...incident('i1'), history: [] },
        'POST incidents/i1/feedback': (call: Call) => ({
          status: 201,
          data: { ...(call.data as object), actor: 'editor', at: '2026-03-02T00:00:00.000Z' },
        }),
      }),
    });
    const section = await screen.findByRole('region', { name: 'Incident' });
    expect(section).toHaveTextContent(
      'Part of an incident on web-1 from 2026-03-01 10:00:00 to 2026-03-01 10:48:00 (48 min, 40 flagged points, high). This is its peak'
    );
    expect(within(section).getByRole('link', { name: 'Its other incidents' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/incidents?detector=cpu&entity=web-1'
    );
    await act(async () => fireEvent.click(within(section).getByRole('button', { name: 'Real' })));
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({
      url: '/api/datasources/proxy/uid/isoscope/api/incidents/i1/feedback',
      data: { verdict: 'real', note: '' },
    });
    await waitFor(() => expect(within(section).getAllByText('Real')).toHaveLength(2));
    expect(within(section).getByRole('link', { name: 'Suppress similar…' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/suppressions?add=1&detector=cpu&entity=web-1&metric=usage_user&since=2026-03-01T10%3A00%3A00.000Z'
    );
  });

  it('finds the incident a moment falls in, and links to its peak', async () => {
    const { calls } = renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-1&time=2026-03-01T10:30:00.000Z',
      role: 'Viewer',
      answer: routes({
        'GET detectors/cpu/explain': explanation,
        'GET incidents': [
          incident('i1', {
            feedback: { verdict: 'expected', note: '', actor: 'ann', at: '2026-03-01T12:00:00.000Z' },
            suppressed: true,
            suppressedBy: { rule: 's1', reason: 'nightly backup' },
          }),
        ],
      }),
    });
    const section = await screen.findByRole('region', { name: 'Incident' });
    // The rule the service recorded with the incident, named without reading the rules.
    expect(within(section).getByRole('link', { name: 'by the rule: nightly backup' })).toBeInTheDocument();
    expect(calls.filter((c) => c.url.includes('/api/suppressions'))).toEqual([]);
    expect(within(section).getByRole('link', { name: 'Explain its peak' })).toHaveAttribute(
      'href',
      '/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=2026-03-01T10%3A20%3A00.000Z&incident=i1'
    );
    expect(within(section).getByText('Expected')).toBeInTheDocument();
    expect(within(section).queryByRole('button', { name: 'Real' })).not.toBeInTheDocument();
    expect(within(section).queryByRole('link', { name: 'Suppress similar…' })).not.toBeInTheDocument();
    const asked = new URLSearchParams(calls.find((c) => c.url.includes('/api/incidents'))!.url.split('?')[1]);
    expect([asked.get('detector'), asked.get('entity'), asked.get('from')]).toEqual([
      'cpu',
      'web-1',
      '2026-03-01T10:30:00.000Z',
    ]);
  });

  it('says when the replay did not reproduce the stored score, with the reason and both scores', async () => {
    renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-1&time=2026-03-01T12:00:00Z',
      answer: routes({
        'GET detectors/cpu/explain': {
          ...explanation,
          reproduced: false,
          note: 'The source rows may have changed since it was scored (rewritten or late data).',
          replay: { ...explanation.replay, score: 0.412 },
        },
      }),
    });
    const warning = await screen.findByText('The breakdown could not be reproduced exactly');
    const alert = warning.closest('[role="alert"]') ?? warning.parentElement!.parentElement!;
    expect(alert).toHaveTextContent('The source rows may have changed since it was scored (rewritten or late data).');
    expect(alert).toHaveTextContent('Replayed score 0.412, stored 0.830.');
    expect(screen.queryByText(/it gives the same score/)).not.toBeInTheDocument();
    // The replay's breakdown is still shown, under the warning.
    expect(screen.getByRole('list', { name: 'Feature contributions' })).toBeInTheDocument();
  });

  it('names the point the breakdown is of when the smoothed score took it from an earlier one, in words for a change', async () => {
    const delta = { ...explanation.contributions[0]!, feature: 'usage_user.delta', learntLow: -3, learntHigh: 4 };
    renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-1&time=2026-03-01T12:00:00Z',
      answer: routes({
        'GET detectors/cpu/explain': {
          ...explanation,
          forest: { ...explanation.forest!, group: 'changes', explainedTime: '2026-03-01T11:59:00.000Z' },
          contributions: [delta],
        },
      }),
    });
    const provenance = await screen.findByTestId('provenance');
    expect(provenance).toHaveTextContent(
      'The score came from the forest that judges changes (how far each value moved since the previous point), 100 trees. The score is the mean of the last few points: the breakdown is of the point at 2026-03-01 11:59:00, the one of them that forest found most unusual.'
    );
    const bars = screen.getByRole('list', { name: 'Feature contributions' });
    expect(within(bars).getByRole('listitem')).toHaveAttribute('aria-label', 'usage_user, change over 1 minute 70%');
  });

  it('shows no breakdown while the model was warming up, and says why', async () => {
    renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-1&time=2026-03-01T12:00:00Z',
      answer: routes({
        'GET detectors/cpu/explain': {
          ...explanation,
          score: 0,
          anomaly: false,
          forest: undefined,
          baseline: 0,
          pathLength: 0,
          contributions: [],
          note: 'The runtime was still warming up at this row: no forest scored it, so there is nothing to break down.',
        },
      }),
    });
    expect(await screen.findByText(/still warming up at this row/)).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Feature contributions' })).not.toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'usage_user around the anomaly' })).toBeInTheDocument();
  });

  it('says what it needs when opened without a moment', async () => {
    renderPage(<Explain />, { route: '/explain', url: '/explain', answer: () => undefined });
    await act(async () => {});
    expect(screen.getByText(/it needs a detector, an entity and a time/)).toBeInTheDocument();
  });

  it("shows the service's reason when there is nothing to explain", async () => {
    renderPage(<Explain />, {
      route: '/explain',
      url: '/explain?detector=cpu&entity=web-9&time=2026-03-01T12:00:00Z',
      answer: () => ({ status: 404, data: { message: "no production model for 'web-9'" } }),
    });
    expect(await screen.findByText("no production model for 'web-9'")).toBeInTheDocument();
  });

  it('reads times as epoch milliseconds or ISO dates', () => {
    expect(parseTime('1772366400000')).toBe(1772366400000);
    expect(parseTime('2026-03-01T12:00:00Z')).toBe(Date.parse('2026-03-01T12:00:00Z'));
    expect(parseTime('soon')).toBeUndefined();
    expect(parseTime(null)).toBeUndefined();
  });
});

import React from 'react';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { detector } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { timeTicks } from '../../components/Swimlane/Swimlane';
import { Explorer, toRows } from './Explorer';

const now = Math.ceil(Date.now() / 60000) * 60000;
const frame = (entity: string, anomalous: boolean) => ({
  refId: 'A',
  name: `cpu ${entity}`,
  fields: [
    { name: 'time', type: 'time', values: [now - 3600_000, now - 1800_000] },
    { name: 'score', type: 'number', values: [0.3, anomalous ? 0.9 : 0.35], labels: { detector: 'cpu', entity } },
    { name: 'anomaly', type: 'boolean', values: [false, anomalous], labels: { detector: 'cpu', entity } },
  ],
});

describe('Explorer', () => {
  it('draws an entity × time swimlane and opens the explanation of a cell’s peak', async () => {
    const { calls } = renderPage(<Explorer />, {
      route: '/explorer',
      url: '/explorer',
      answer: routes({
        'GET detectors': [detector],
        'POST grafana/query': { frames: [frame('web-2', false), frame('web-1', true)] },
      }),
    });
    const cell = await screen.findByRole('gridcell', { name: /web-1 .* anomalous/ });
    expect(screen.getAllByRole('rowheader').map((r) => r.textContent)).toEqual(['web-1', 'web-2']);
    fireEvent.click(cell);
    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent(
        `/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=${encodeURIComponent(new Date(now - 1800_000).toISOString())}`
      )
    );
    expect(calls.find((c) => c.url.endsWith('grafana/query'))?.data).toMatchObject({
      targets: [{ detector: 'cpu', entity: '', return: 'score' }],
    });
  });

  it('has a time axis and a legend, and a cell explains its stretch rather than a higher blip', async () => {
    // Inside one 30-minute cell: a blip at 0.95, then five minutes at 0.9 among normal scores.
    const base = now - 3600_000 + 60_000;
    const time = Array.from({ length: 20 }, (_, i) => base + i * 60_000);
    const score: number[] = time.map((_, i) => (i === 3 ? 0.95 : i >= 10 && i < 15 ? 0.9 : 0.4));
    score[12] = 0.92;
    const anomaly = score.map((v) => v > 0.6);
    renderPage(<Explorer />, {
      route: '/explorer',
      url: '/explorer',
      answer: routes({
        'GET detectors': [detector],
        'POST grafana/query': {
          frames: [
            {
              refId: 'A',
              fields: [
                { name: 'time', type: 'time', values: time },
                { name: 'score', type: 'number', values: score, labels: { detector: 'cpu', entity: 'web-1' } },
                { name: 'anomaly', type: 'boolean', values: anomaly, labels: { detector: 'cpu', entity: 'web-1' } },
              ],
            },
          ],
        },
      }),
    });
    const cell = await screen.findByRole('gridcell', { name: /web-1 .* anomalous/ });
    const axis = screen.getByLabelText('Time axis');
    // 24 hours: a tick every 4 hours of the day.
    expect(axis.textContent).toMatch(/(\d\d:00|\d\d\/\d\d)/);
    expect(axis.children.length).toBeGreaterThanOrEqual(5);
    expect(screen.getByLabelText('Legend')).toHaveTextContent(/normal.*anomalous.*no scores/);
    fireEvent.click(cell);
    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent(
        `time=${encodeURIComponent(new Date(base + 12 * 60_000).toISOString())}`
      )
    );
  });

  it('puts ticks on whole hours and midnights of the time zone', () => {
    const from = Date.parse('2026-03-01T10:20:00Z');
    expect(timeTicks(from, from + 6 * 3600_000, 'utc').map((t) => t.label)).toEqual([
      '11:00',
      '12:00',
      '13:00',
      '14:00',
      '15:00',
      '16:00',
    ]);
    expect(timeTicks(from, from + 24 * 3600_000, 'utc').map((t) => t.label)).toEqual([
      '12:00',
      '16:00',
      '20:00',
      '03/02',
      '04:00',
      '08:00',
    ]);
    const week = timeTicks(from, from + 7 * 24 * 3600_000, 'Europe/Berlin');
    expect(week.map((t) => t.label)).toEqual(['03/02', '03/03', '03/04', '03/05', '03/06', '03/07', '03/08']);
    expect(new Date(week[0]!.time).toISOString()).toBe('2026-03-01T23:00:00.000Z');
  });

  it('reads the scores again up to the present on refresh', async () => {
    const { calls } = renderPage(<Explorer />, {
      route: '/explorer',
      url: '/explorer',
      answer: routes({ 'GET detectors': [detector], 'POST grafana/query': { frames: [] } }),
    });
    await screen.findByText(/No scores in this range/);
    const later = jest.spyOn(Date, 'now').mockReturnValue(now + 600_000);
    try {
      fireEvent.click(screen.getByRole('button', { name: 'Refresh' }));
      await waitFor(() => expect(calls.filter((c) => c.url.endsWith('grafana/query'))).toHaveLength(2));
    } finally {
      later.mockRestore();
    }
    const ends = calls
      .filter((c) => c.url.endsWith('grafana/query'))
      .map((c) => Date.parse((c.data as { range: { to: string } }).range.to));
    expect(ends[1]).toBe(now + 600_000);
    expect(ends[0]).toBeLessThan(ends[1]!);
  });

  it('reads score frames as rows', () => {
    expect(toRows([frame('a', true) as never])).toEqual([
      { entity: 'a', time: [now - 3600_000, now - 1800_000], score: [0.3, 0.9], anomaly: [false, true] },
    ]);
  });
});

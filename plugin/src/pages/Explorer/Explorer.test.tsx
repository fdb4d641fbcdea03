import React from 'react';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { detector } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
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

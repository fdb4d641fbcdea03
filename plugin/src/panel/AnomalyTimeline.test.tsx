import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import {
  FieldType,
  LoadingState,
  createDataFrame,
  dateTime,
  getDefaultTimeRange,
  type PanelProps,
} from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { AnomalyTimeline } from './AnomalyTimeline';
import { DEFAULT_OPTIONS, type TimelineOptions } from './types';

// uPlot draws on a canvas, which jsdom lacks: the charts are checked in the browser test; here the
// panel's structure, states and links.
jest.mock('@grafana/ui', () => ({
  ...jest.requireActual('@grafana/ui'),
  UPlotChart: ({ data, height }: { data: unknown[][]; height: number }) => (
    <div data-testid="uplot" data-series={data.length - 1} data-points={data[0]?.length} data-height={height} />
  ),
}));

const labels = { detector: 'cpu', entity: 'web-1', model_version: '2' };
const t0 = Date.parse('2026-03-01T12:00:00Z');

function props(
  series: Array<ReturnType<typeof createDataFrame>>,
  options: Partial<TimelineOptions> = {}
): PanelProps<TimelineOptions> {
  const timeRange = getDefaultTimeRange();
  return {
    id: 1,
    data: { series, state: LoadingState.Done, timeRange },
    timeRange: { ...timeRange, from: dateTime(t0 - 600_000), to: dateTime(t0 + 600_000) },
    timeZone: 'utc',
    options: { ...DEFAULT_OPTIONS, ...options },
    fieldConfig: { defaults: {}, overrides: [] },
    width: 800,
    height: 300,
    transparent: false,
    renderCounter: 0,
    title: 'CPU',
    eventBus: {} as never,
    onOptionsChange: jest.fn(),
    onFieldConfigChange: jest.fn(),
    replaceVariables: (s: string) => s,
    onChangeTimeRange: jest.fn(),
  } as unknown as PanelProps<TimelineOptions>;
}

const score = createDataFrame({
  refId: 'A',
  fields: [
    { name: 'time', type: FieldType.time, values: [t0 - 120_000, t0 - 60_000, t0, t0 + 60_000] },
    { name: 'score', type: FieldType.number, values: [0.3, 0.8, 0.9, 0.3], labels },
    { name: 'anomaly', type: FieldType.boolean, values: [false, true, true, false], labels },
    { name: 'severity', type: FieldType.string, values: ['', 'medium', 'critical', ''], labels },
    { name: 'threshold', type: FieldType.number, values: [0.6, 0.6, 0.6, 0.6], labels },
  ],
});
const features = createDataFrame({
  refId: 'B',
  fields: [
    { name: 'time', type: FieldType.time, values: [t0 - 60_000, t0] },
    { name: 'usage_user', type: FieldType.number, values: [20, 97], labels, config: { unit: 'percent' } },
  ],
});

describe('AnomalyTimeline', () => {
  it('draws the metric and the score strip, and lists the anomalous stretch by its worst severity', () => {
    render(<AnomalyTimeline {...props([score, features])} />);
    const charts = screen.getAllByTestId('uplot');
    expect(charts.map((c) => c.dataset.series)).toEqual(['1', '1']);
    expect(charts[1]!.dataset.height).toBe(String(DEFAULT_OPTIONS.scoreStripHeight));
    expect(screen.getByRole('button', { name: '2026-03-01 11:59:00 critical' })).toHaveAttribute(
      'title',
      'Explain this stretch: highest score 0.90'
    );
  });

  it('has a legend: each metric, the expected range, the severities, the score and its threshold', () => {
    const expected = createDataFrame({
      refId: 'C',
      fields: [
        { name: 'time', type: FieldType.time, values: [t0 - 60_000, t0] },
        { name: 'usage_user_expected_low', type: FieldType.number, values: [5, 5], labels },
        { name: 'usage_user_expected_high', type: FieldType.number, values: [40, 40], labels },
      ],
    });
    render(<AnomalyTimeline {...props([score, features, expected])} />);
    expect(screen.getByLabelText('Legend of web-1')).toHaveTextContent(
      'usage_userexpected rangeanomalous: low medium high critical score (0–1)threshold'
    );
  });

  it('opens the explanation drill-down of the stretch’s peak on click', () => {
    const push = jest.spyOn(locationService, 'push').mockImplementation(() => {});
    render(<AnomalyTimeline {...props([score, features])} />);
    fireEvent.click(screen.getByRole('button', { name: /critical/ }));
    expect(push).toHaveBeenCalledWith(
      `/a/isoscope-anomaly-app/explain?detector=cpu&entity=web-1&time=${encodeURIComponent(new Date(t0).toISOString())}`
    );
    push.mockRestore();
  });

  it('leaves the score strip out when switched off', () => {
    render(<AnomalyTimeline {...props([score, features], { showScoreStrip: false })} />);
    expect(screen.getAllByTestId('uplot')).toHaveLength(1);
  });

  it('explains an empty result instead of drawing nothing', () => {
    render(<AnomalyTimeline {...props([])} />);
    expect(screen.getByText(/No scores or metrics to draw/)).toBeInTheDocument();
  });
});

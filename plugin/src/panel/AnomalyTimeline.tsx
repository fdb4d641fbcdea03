import React, { useMemo, useState } from 'react';
import type { AlignedData } from 'uplot';
import { css } from '@emotion/css';
import { dateTimeFormat, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import type { TimeZone } from '@grafana/schema';
import { PanelDataErrorView, locationService } from '@grafana/runtime';
import { UPlotChart, useStyles2, useTheme2 } from '@grafana/ui';
import { explainUrl } from '../constants';
import { METRIC_COLOURS, metricChart, scoreStrip, severityColour } from './chartConfig';
import { alignMetrics, nearestIndex, stretchAt, toTimelines, type Stretch, type Timeline } from './transforms';
import type { TimelineOptions } from './types';

const HEADER = 22;
const FOOTER = 24;

/** The anomaly timeline: per entity the metrics with anomalous stretches shaded, and the score strip. */
export function AnomalyTimeline({
  data,
  width,
  height,
  options,
  timeRange,
  timeZone,
  id,
  fieldConfig,
}: PanelProps<TimelineOptions>) {
  const from = timeRange.from.valueOf();
  const to = timeRange.to.valueOf();
  const range = useMemo<[number, number]>(() => [from, to], [from, to]);
  const timelines = useMemo(
    () => toTimelines(data.series).slice(0, Math.max(1, options.maxEntities)),
    [data.series, options.maxEntities]
  );
  if (timelines.length === 0) {
    return (
      <PanelDataErrorView
        panelId={id}
        fieldConfig={fieldConfig}
        data={data}
        needsTimeField
        needsNumberField
        message="No scores or metrics to draw: query the Isoscope data source for Score (and Features or Expected range), or a metric with a host label."
      />
    );
  }
  const rowHeight = Math.floor(height / timelines.length);
  return (
    <div>
      {timelines.map((t) => (
        <EntityTimeline
          key={t.entity}
          timeline={t}
          width={width}
          height={rowHeight}
          options={options}
          range={range}
          timeZone={timeZone}
        />
      ))}
    </div>
  );
}

interface RowProps {
  timeline: Timeline;
  width: number;
  height: number;
  options: TimelineOptions;
  range: [number, number];
  timeZone: TimeZone;
}

function openExplanation(timeline: Timeline, s: Stretch) {
  if (timeline.detector) {
    locationService.push(explainUrl(timeline.detector, timeline.entity, s.peakTime));
  }
}

function EntityTimeline({ timeline, width, height, options, range, timeZone }: RowProps) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const [hover, setHover] = useState<number | null>(null);

  const strip = options.showScoreStrip && timeline.score ? options.scoreStripHeight : 0;
  const chartHeight = Math.max(40, height - HEADER - FOOTER - strip);
  // Stable arrays: uPlot redraws whenever the data prop changes, and hovering re-renders this row.
  const metricData = useMemo(() => {
    const aligned = alignMetrics(timeline.metrics);
    return [aligned.time, ...aligned.values] as AlignedData;
  }, [timeline.metrics]);
  const scoreData = useMemo(
    () => (timeline.score ? ([timeline.score.time, timeline.score.score] as AlignedData) : undefined),
    [timeline.score]
  );

  const configs = useMemo(() => {
    const common = {
      theme,
      timeZone,
      range,
      stretches: timeline.stretches,
      onHover: setHover,
      onClick: (time: number) => {
        const s = stretchAt(timeline.stretches, time);
        if (s) {
          openExplanation(timeline, s);
        }
      },
    };
    return {
      metrics: timeline.metrics.length > 0 ? metricChart(common, timeline.metrics, options.showExpected) : undefined,
      score: timeline.score ? scoreStrip(common, timeline.score.threshold) : undefined,
    };
  }, [theme, timeZone, range, timeline, options.showExpected]);

  return (
    <div className={styles.row} data-testid={`isoscope-timeline-${timeline.entity}`}>
      <div className={styles.header}>
        <strong>{timeline.entity || timeline.detector || 'series'}</strong>
        <HoverLine timeline={timeline} time={hover} timeZone={timeZone} />
      </div>
      {configs.metrics && <UPlotChart config={configs.metrics} data={metricData} width={width} height={chartHeight} />}
      {configs.score && scoreData && strip > 0 && (
        <UPlotChart
          config={configs.score}
          data={scoreData}
          width={width}
          height={configs.metrics ? strip : chartHeight + strip}
        />
      )}
      <div className={styles.footer}>
        {timeline.stretches.length === 0 ? (
          <span className={styles.quiet}>No anomalies in this range</span>
        ) : (
          timeline.stretches.slice(-8).map((s) => (
            <button
              key={s.start}
              type="button"
              className={styles.chip}
              style={{ borderColor: severityColour(theme, s.severity) }}
              title={`Explain: score ${s.peakScore.toFixed(2)}${s.topFeature ? `, top feature ${s.topFeature}` : ''}`}
              onClick={() => openExplanation(timeline, s)}
            >
              {dateTimeFormat(s.start, { timeZone, format: 'MM-DD HH:mm' })} {s.severity}
            </button>
          ))
        )}
      </div>
    </div>
  );
}

/** What is under the cursor: time, each metric's value, the score with its severity and top feature. */
function HoverLine({ timeline, time, timeZone }: { timeline: Timeline; time: number | null; timeZone: TimeZone }) {
  const theme = useTheme2();
  if (time === null) {
    return null;
  }
  const parts: React.ReactNode[] = [
    <span key="t">{dateTimeFormat(time, { timeZone, format: 'YYYY-MM-DD HH:mm:ss' })}</span>,
  ];
  timeline.metrics.slice(0, 3).forEach((m, i) => {
    const v = m.values[nearestIndex(m.time, time)];
    parts.push(
      <span
        key={m.name}
        style={{ color: theme.visualization.getColorByName(METRIC_COLOURS[i % METRIC_COLOURS.length]!) }}
      >
        {m.name} {v === null || v === undefined ? '–' : Number(v.toPrecision(4))}
      </span>
    );
  });
  const s = timeline.score;
  if (s) {
    const i = nearestIndex(s.time, time);
    const stretch = stretchAt(timeline.stretches, time);
    const top = s.topFeature[i] ?? stretch?.topFeature;
    parts.push(
      <span key="score" data-testid="isoscope-hover-score">
        score {s.score[i] === null || s.score[i] === undefined ? '–' : s.score[i]!.toFixed(3)}
        {s.anomaly[i] ? ` (${s.severity[i] || 'anomalous'})` : ''}
        {top ? ` · top ${top}` : ''}
      </span>
    );
  }
  return (
    <span data-testid="isoscope-hover">
      {parts.reduce<React.ReactNode[]>((acc, p, k) => (k ? [...acc, ' · ', p] : [p]), [])}
    </span>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  row: css({ display: 'flex', flexDirection: 'column' }),
  header: css({
    display: 'flex',
    gap: theme.spacing(2),
    height: HEADER,
    alignItems: 'center',
    fontSize: theme.typography.bodySmall.fontSize,
    whiteSpace: 'nowrap',
    overflow: 'hidden',
  }),
  footer: css({ display: 'flex', gap: theme.spacing(0.5), height: FOOTER, alignItems: 'center', overflow: 'hidden' }),
  chip: css({
    border: '1px solid',
    borderRadius: theme.shape.radius.pill,
    background: 'transparent',
    color: theme.colors.text.primary,
    fontSize: theme.typography.bodySmall.fontSize,
    padding: theme.spacing(0, 1),
    cursor: 'pointer',
  }),
  quiet: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
});

import React, { useMemo, useState } from 'react';
import type { AlignedData } from 'uplot';
import { css } from '@emotion/css';
import { colorManipulator, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import type { TimeZone } from '@grafana/schema';
import { PanelDataErrorView, locationService } from '@grafana/runtime';
import { UPlotChart, useStyles2, useTheme2 } from '@grafana/ui';
import { explainUrl } from '../constants';
import { featureLabel, formatTime } from '../format';
import { medianStep } from '../peak';
import { METRIC_COLOURS, metricChart, scoreStrip, severityColour, yAxisSize } from './chartConfig';
import {
  SEVERITIES,
  alignMetrics,
  nearestIndex,
  stretchAt,
  toTimelines,
  type Stretch,
  type Timeline,
} from './transforms';
import type { TimelineOptions } from './types';

const HEADER = 22;
const LEGEND = 20;
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
    locationService.push(explainUrl(timeline.detector, timeline.entity, s.explainTime));
  }
}

/** The scoring interval in seconds, from the score's spacing (feature names count in intervals). */
function intervalOf(timeline: Timeline): number | undefined {
  const step = timeline.score ? medianStep(timeline.score.time) : 0;
  return step > 0 ? Math.round(step / 1000) : undefined;
}

function EntityTimeline({ timeline, width, height, options, range, timeZone }: RowProps) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const [hover, setHover] = useState<number | null>(null);

  const strip = options.showScoreStrip && timeline.score ? options.scoreStripHeight : 0;
  const chartHeight = Math.max(40, height - HEADER - LEGEND - FOOTER - strip);
  const axisSize = useMemo(() => yAxisSize(timeline.metrics), [timeline.metrics]);
  const interval = intervalOf(timeline);
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
      axisSize,
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
  }, [theme, axisSize, timeZone, range, timeline, options.showExpected]);

  return (
    <div className={styles.row} data-testid={`isoscope-timeline-${timeline.entity}`}>
      <div className={styles.header}>
        <strong>{timeline.entity || timeline.detector || 'series'}</strong>
        <HoverLine timeline={timeline} time={hover} timeZone={timeZone} interval={interval} />
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
      <Legend timeline={timeline} showExpected={options.showExpected} showScore={strip > 0} />
      <div className={styles.footer}>
        {timeline.stretches.length === 0 ? (
          <span className={styles.quiet}>No anomalies in this range</span>
        ) : (
          timeline.stretches.slice(-Math.max(1, Math.floor(width / 190))).map((s) => (
            <button
              key={s.start}
              type="button"
              className={styles.chip}
              style={{ borderColor: severityColour(theme, s.severity) }}
              title={`Explain this stretch: highest score ${s.peakScore.toFixed(2)}${
                s.topFeature ? `, mostly ${featureLabel(s.topFeature, interval)} (${s.topFeature})` : ''
              }`}
              onClick={() => openExplanation(timeline, s)}
            >
              {formatTime(s.start, timeZone)} {s.severity}
            </button>
          ))
        )}
      </div>
    </div>
  );
}

/** What is under the cursor: time, each metric's value, the score with its severity and top feature. */
function HoverLine({
  timeline,
  time,
  timeZone,
  interval,
}: {
  timeline: Timeline;
  time: number | null;
  timeZone: TimeZone;
  interval?: number;
}) {
  const theme = useTheme2();
  if (time === null) {
    return null;
  }
  const parts: React.ReactNode[] = [<span key="t">{formatTime(time, timeZone)}</span>];
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
        {top ? ` · mostly ${featureLabel(top, interval)}` : ''}
      </span>
    );
  }
  return (
    <span data-testid="isoscope-hover">
      {parts.reduce<React.ReactNode[]>((acc, p, k) => (k ? [...acc, ' · ', p] : [p]), [])}
    </span>
  );
}

/** What the colours mean: each metric's line, the expected range, the severities' shading, the score strip. */
function Legend({
  timeline,
  showExpected,
  showScore,
}: {
  timeline: Timeline;
  showExpected: boolean;
  showScore: boolean;
}) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const colour = (i: number) => theme.visualization.getColorByName(METRIC_COLOURS[i % METRIC_COLOURS.length]!);
  const hasExpected = showExpected && timeline.metrics.some((m) => m.expected);
  return (
    <div className={styles.legend} aria-label={`Legend of ${timeline.entity || 'series'}`}>
      {timeline.metrics.map((m, i) => (
        <span key={m.name}>
          <i className={styles.line} style={{ background: colour(i) }} />
          {m.name}
        </span>
      ))}
      {hasExpected && (
        <span>
          <i className={styles.box} style={{ background: colorManipulator.alpha(colour(0), 0.25) }} />
          expected range
        </span>
      )}
      {timeline.score && (
        <span>
          anomalous:{' '}
          {SEVERITIES.map((sev) => (
            <React.Fragment key={sev}>
              <i
                className={styles.box}
                style={{ background: colorManipulator.alpha(severityColour(theme, sev), 0.5) }}
              />
              {sev}{' '}
            </React.Fragment>
          ))}
        </span>
      )}
      {timeline.score && showScore && (
        <span>
          <i className={styles.line} style={{ background: theme.colors.text.secondary }} />
          score (0–1)
          <i
            className={styles.line}
            style={{ borderTop: `2px dashed ${theme.visualization.getColorByName('red')}`, height: 0 }}
          />
          threshold
        </span>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  legend: css({
    display: 'flex',
    gap: theme.spacing(2),
    height: LEGEND,
    alignItems: 'center',
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.secondary,
    whiteSpace: 'nowrap',
    overflow: 'hidden',
  }),
  line: css({
    display: 'inline-block',
    width: 14,
    height: 2,
    verticalAlign: 'middle',
    margin: theme.spacing(0, 0.5),
  }),
  box: css({ display: 'inline-block', width: 10, height: 10, verticalAlign: 'middle', margin: theme.spacing(0, 0.5) }),
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

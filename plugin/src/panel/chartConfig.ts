import type uPlot from 'uplot';
import { colorManipulator, formattedValueToString, getValueFormat, type GrafanaTheme2 } from '@grafana/data';
import {
  AxisPlacement,
  GraphDrawStyle,
  ScaleDirection,
  ScaleOrientation,
  VisibilityMode,
  type TimeZone,
} from '@grafana/schema';
import { UPlotConfigBuilder } from '@grafana/ui';
import type { MetricSeries, Severity, Stretch } from './transforms';

const SEVERITY_COLOURS: Record<Severity, string> = {
  low: 'yellow',
  medium: 'orange',
  high: 'red',
  critical: 'dark-red',
};

export function severityColour(theme: GrafanaTheme2, severity: Severity): string {
  return theme.visualization.getColorByName(SEVERITY_COLOURS[severity]);
}

export const METRIC_COLOURS = ['blue', 'green', 'purple', 'orange', 'yellow', 'red'];

interface Common {
  theme: GrafanaTheme2;
  /** Width of the y axis, the same for the metric chart and the score strip so their times line up. */
  axisSize: number;
  timeZone: TimeZone;
  range: [number, number];
  stretches: Stretch[];
  onHover: (time: number | null) => void;
  onClick: (time: number) => void;
}

function base(
  { theme, timeZone, range, stretches, onHover, onClick }: Common,
  showTimeAxis: boolean
): UPlotConfigBuilder {
  const b = new UPlotConfigBuilder(timeZone);
  b.setCursor({ drag: { x: false, y: false, setScale: false }, points: { show: false } });
  b.addScale({
    scaleKey: 'x',
    isTime: true,
    orientation: ScaleOrientation.Horizontal,
    direction: ScaleDirection.Right,
    range: () => range,
  });
  b.addAxis({ scaleKey: 'x', isTime: true, placement: AxisPlacement.Bottom, theme, timeZone, show: showTimeAxis });
  // Shading goes under the lines: drawClear runs after the canvas is cleared, before the series.
  b.addHook('drawClear', (u: uPlot) => shadeStretches(u, stretches, theme));
  b.addHook('setCursor', (u: uPlot) => {
    const left = u.cursor.left;
    onHover(left === undefined || left < 0 ? null : u.posToVal(left, 'x'));
  });
  b.addHook('init', (u: uPlot) => {
    u.over.addEventListener('click', () => {
      const left = u.cursor.left;
      if (left !== undefined && left >= 0) {
        onClick(u.posToVal(left, 'x'));
      }
    });
  });
  return b;
}

function shadeStretches(u: uPlot, stretches: Stretch[], theme: GrafanaTheme2) {
  const { ctx, bbox } = u;
  ctx.save();
  for (const s of stretches) {
    const x0 = Math.max(bbox.left, u.valToPos(s.start, 'x', true));
    const x1 = Math.min(bbox.left + bbox.width, u.valToPos(s.end, 'x', true));
    if (x1 <= bbox.left || x0 >= bbox.left + bbox.width) {
      continue;
    }
    ctx.fillStyle = colorManipulator.alpha(severityColour(theme, s.severity), 0.25);
    ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
  }
  ctx.restore();
}

/**
 * Room above the plot, so the top tick label is not cut in half, and to the right, so the last time
 * label (centred on its tick, up to "12/02 00:00") is not cut at the edge. The score strip has the
 * same right padding, so both charts' times line up.
 */
const PADDING: [number, number, number, number] = [8, 36, 0, 0];

/**
 * The y axis' width for labels formatted in `unit`: wide enough for the longest label of the values'
 * range (and of the score strip's 0.5), so no label is cut off at the left edge.
 */
export function yAxisSize(metrics: MetricSeries[]): number {
  const format = getValueFormat(metrics.find((m) => m.unit)?.unit);
  const values = metrics.flatMap((m) => [
    ...m.values.filter((v): v is number => v !== null),
    ...(m.expected ? [m.expected.low, m.expected.high] : []),
  ]);
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  // Ticks land on round values between (and just beyond) the extremes; their labels are about as long.
  const labels = [lo, hi, (lo + hi) / 2, hi * 1.1, lo - Math.abs(lo) * 0.1].map((v) =>
    formattedValueToString(format(v))
  );
  const longest = Math.max(3, ...labels.map((l) => l.length));
  return Math.ceil(longest * 7.5) + 18;
}

/** The metric chart: each metric as a line, expected ranges as bands behind them. */
export function metricChart(common: Common, metrics: MetricSeries[], showExpected: boolean): UPlotConfigBuilder {
  const { theme } = common;
  const b = base(common, true);
  const unit = metrics.find((m) => m.unit)?.unit;
  const format = getValueFormat(unit);
  b.setPadding(PADDING);
  b.addScale({ scaleKey: 'y', orientation: ScaleOrientation.Vertical, direction: ScaleDirection.Up });
  b.addAxis({
    scaleKey: 'y',
    placement: AxisPlacement.Left,
    theme,
    size: common.axisSize,
    formatValue: (v: number) => formattedValueToString(format(v)),
  });
  metrics.forEach((_m, i) => {
    b.addSeries({
      scaleKey: 'y',
      theme,
      drawStyle: GraphDrawStyle.Line,
      lineColor: theme.visualization.getColorByName(METRIC_COLOURS[i % METRIC_COLOURS.length]!),
      lineWidth: 1,
      fillOpacity: 0,
      showPoints: VisibilityMode.Never,
      spanNulls: false,
    });
  });
  if (showExpected) {
    b.addHook('drawClear', (u: uPlot) => {
      const { ctx, bbox } = u;
      ctx.save();
      metrics.forEach((m, i) => {
        if (!m.expected) {
          return;
        }
        const y0 = u.valToPos(m.expected.high, 'y', true);
        const y1 = u.valToPos(m.expected.low, 'y', true);
        const colour = theme.visualization.getColorByName(METRIC_COLOURS[i % METRIC_COLOURS.length]!);
        ctx.fillStyle = colorManipulator.alpha(colour, 0.1);
        ctx.fillRect(bbox.left, Math.min(y0, y1), bbox.width, Math.abs(y1 - y0));
      });
      ctx.restore();
    });
  }
  return b;
}

/** The score strip: score 0…1 and the model's threshold as a dashed line. */
export function scoreStrip(common: Common, threshold: number | undefined): UPlotConfigBuilder {
  const { theme } = common;
  const b = base(common, false);
  b.setPadding([6, PADDING[1], 6, 0]);
  b.addScale({
    scaleKey: 'score',
    orientation: ScaleOrientation.Vertical,
    direction: ScaleDirection.Up,
    range: () => [0, 1],
  });
  b.addAxis({
    scaleKey: 'score',
    placement: AxisPlacement.Left,
    theme,
    size: common.axisSize,
    splits: () => [0, 0.5, 1],
  });
  b.addSeries({
    scaleKey: 'score',
    theme,
    drawStyle: GraphDrawStyle.Line,
    lineColor: theme.colors.text.secondary,
    lineWidth: 1,
    fillOpacity: 15,
    showPoints: VisibilityMode.Never,
    spanNulls: false,
  });
  if (threshold !== undefined) {
    b.addHook('draw', (u: uPlot) => {
      const { ctx, bbox } = u;
      const y = u.valToPos(threshold, 'score', true);
      ctx.save();
      ctx.strokeStyle = theme.visualization.getColorByName('red');
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      ctx.restore();
    });
  }
  return b;
}

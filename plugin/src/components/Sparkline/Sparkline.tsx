import React from 'react';
import { useTheme2 } from '@grafana/ui';

interface Props {
  time: number[];
  values: Array<number | null>;
  width: number;
  height: number;
  /** A moment to mark with a vertical line (the anomaly being explained). */
  marker?: number;
  /** A band to shade behind the line (the training distribution's 5th to 95th percentile). */
  band?: { low: number; high: number };
  colour?: string;
  label?: string;
}

/** A small SVG line: a preview of source data or the raw series around an anomaly. */
export function Sparkline({ time, values, width, height, marker, band, colour, label }: Props) {
  const theme = useTheme2();
  const points = time
    .map((t, i) => [t, values[i]] as const)
    .filter((p): p is readonly [number, number] => p[1] !== null);
  if (points.length === 0) {
    return <svg width={width} height={height} role="img" aria-label={`${label ?? 'series'}: no data`} />;
  }
  const t0 = Math.min(time[0]!, marker ?? Infinity);
  const t1 = Math.max(time[time.length - 1]!, marker ?? -Infinity);
  const ys = points.map((p) => p[1]).concat(band ? [band.low, band.high] : []);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const x = (t: number) => (t1 === t0 ? width / 2 : ((t - t0) / (t1 - t0)) * (width - 2) + 1);
  const y = (v: number) => (hi === lo ? height / 2 : height - 2 - ((v - lo) / (hi - lo)) * (height - 4));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
  return (
    <svg width={width} height={height} role="img" aria-label={label ?? 'series'}>
      {band && (
        <rect
          x={0}
          width={width}
          y={Math.min(y(band.high), y(band.low))}
          height={Math.abs(y(band.low) - y(band.high))}
          fill={theme.colors.success.transparent}
        />
      )}
      <path d={path} fill="none" stroke={colour ?? theme.visualization.getColorByName('blue')} strokeWidth={1.2} />
      {marker !== undefined && (
        <line
          x1={x(marker)}
          x2={x(marker)}
          y1={0}
          y2={height}
          stroke={theme.visualization.getColorByName('red')}
          strokeDasharray="3 2"
        />
      )}
    </svg>
  );
}

import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { colorManipulator, dateTimeForTimeZone, dateTimeFormat, getTimeZone, type GrafanaTheme2 } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';
import { formatTime } from '../../format';
import { representativeMoment } from '../../peak';

export interface SwimlaneRow {
  entity: string;
  time: number[];
  score: Array<number | null>;
  anomaly: boolean[];
}

export interface SwimlaneCell {
  entity: string;
  start: number;
  end: number;
  /** Highest score in the cell, and when it was. */
  max: number;
  peakTime: number;
  anomalous: boolean;
  /**
   * The moment a click explains: in an anomalous cell, the peak of the smoothed score over its
   * flagged points (`representativeMoment`), so a one-minute blip does not hide the stretch around
   * it; otherwise the highest score.
   */
  explainTime: number;
}

/** Scores bucketed into `buckets` cells per entity, keeping each cell's peak: a pure transform. */
export function toCells(rows: SwimlaneRow[], from: number, to: number, buckets: number): SwimlaneCell[][] {
  const width = (to - from) / buckets;
  return rows.map((r) => {
    const cells: SwimlaneCell[] = Array.from({ length: buckets }, (_, b) => ({
      entity: r.entity,
      start: from + b * width,
      end: from + (b + 1) * width,
      max: -1,
      peakTime: from + b * width,
      anomalous: false,
      explainTime: from + b * width,
    }));
    r.time.forEach((t, i) => {
      const b = Math.floor((t - from) / width);
      const s = r.score[i];
      if (b < 0 || b >= buckets || s === null || s === undefined) {
        return;
      }
      const cell = cells[b]!;
      cell.anomalous ||= r.anomaly[i] ?? false;
      if (s > cell.max) {
        cell.max = s;
        cell.peakTime = t;
      }
    });
    for (const cell of cells) {
      cell.explainTime = cell.anomalous
        ? (representativeMoment(r.time, r.score, r.anomaly, [cell.start, cell.end])?.time ?? cell.peakTime)
        : cell.peakTime;
    }
    return cells;
  });
}

const HOUR = 3600_000;

/**
 * Tick marks for a time axis from `from` to `to`, on whole hours (or days) of the time zone: hourly
 * up to 12 hours, every 4 hours up to 2 days, daily beyond. Midnight shows the date.
 */
export function timeTicks(from: number, to: number, timeZone?: string): Array<{ time: number; label: string }> {
  const zone = timeZone ?? getTimeZone();
  const span = to - from;
  const step = span <= 12 * HOUR ? HOUR : span <= 48 * HOUR ? 4 * HOUR : 24 * HOUR;
  const daily = step === 24 * HOUR;
  const ticks: Array<{ time: number; label: string }> = [];
  // DateTime is a mutable moment: `add` moves t itself.
  for (
    let t = dateTimeForTimeZone(zone, from).startOf(daily ? 'day' : 'hour');
    t.valueOf() <= to;
    t.add(1, daily ? 'days' : 'hours')
  ) {
    const ms = t.valueOf();
    const hour = t.hour?.() ?? 0;
    if (ms < from || (step === 4 * HOUR && hour % 4 !== 0)) {
      continue;
    }
    const midnight = hour === 0 && t.minute?.() === 0;
    ticks.push({
      time: ms,
      label: dateTimeFormat(ms, { timeZone: zone, format: midnight ? 'MM/DD' : 'HH:mm' }),
    });
  }
  return ticks;
}

interface Props {
  rows: SwimlaneRow[];
  from: number;
  to: number;
  buckets?: number;
  timeZone?: string;
  onSelect: (cell: SwimlaneCell) => void;
}

/** Entity × time: each cell coloured by its highest score, anomalous cells in red; a click explains it. */
export function Swimlane({ rows, from, to, buckets = 48, timeZone, onSelect }: Props) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const grid = useMemo(() => toCells(rows, from, to, buckets), [rows, from, to, buckets]);
  const ticks = timeTicks(from, to, timeZone);
  const red = theme.visualization.getColorByName('red');
  const green = theme.visualization.getColorByName('green');
  const colour = (c: SwimlaneCell) =>
    c.max < 0
      ? theme.colors.background.secondary
      : colorManipulator.alpha(c.anomalous ? red : green, 0.15 + 0.85 * c.max);
  const minutes = Math.round((to - from) / buckets / 60_000);
  return (
    <div>
      <div className={styles.grid} style={{ gridTemplateColumns: `160px repeat(${buckets}, 1fr)` }} role="grid">
        {grid.map((cells, r) => (
          <React.Fragment key={rows[r]!.entity}>
            <div className={styles.entity} role="rowheader">
              {rows[r]!.entity || '(all)'}
            </div>
            {cells.map((c) => (
              <button
                key={c.start}
                type="button"
                role="gridcell"
                className={styles.cell}
                style={{ background: colour(c), outline: c.anomalous ? `1px solid ${red}` : undefined }}
                title={`${c.entity || 'all'}, ${formatTime(c.start, timeZone)}: ${
                  c.max < 0
                    ? 'no scores'
                    : `highest score ${c.max.toFixed(3)}${c.anomalous ? ', anomalous: click to explain' : ''}`
                }`}
                aria-label={`${c.entity} ${new Date(c.start).toISOString()} ${c.anomalous ? 'anomalous' : 'normal'}`}
                disabled={c.max < 0}
                onClick={() => onSelect(c)}
              />
            ))}
          </React.Fragment>
        ))}
        <div />
        <div className={styles.axis} style={{ gridColumn: `2 / span ${buckets}` }} aria-label="Time axis">
          {ticks.map((t) => (
            <span key={t.time} className={styles.tick} style={{ left: `${((t.time - from) / (to - from)) * 100}%` }}>
              {t.label}
            </span>
          ))}
        </div>
      </div>
      <div className={styles.legend} aria-label="Legend">
        <span>
          <i className={styles.swatch} style={{ background: colorManipulator.alpha(green, 0.35) }} />
          <i className={styles.swatch} style={{ background: colorManipulator.alpha(green, 0.8) }} /> normal (darker:
          higher score)
        </span>
        <span>
          <i
            className={styles.swatch}
            style={{ background: colorManipulator.alpha(red, 0.8), outline: `1px solid ${red}` }}
          />{' '}
          anomalous: a click explains it
        </span>
        <span>
          <i className={styles.swatch} style={{ background: theme.colors.background.secondary }} /> no scores
        </span>
        <span className={styles.quiet}>Each cell: the highest score in {minutes} minutes.</span>
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  grid: css({ display: 'grid', gap: 1, alignItems: 'stretch' }),
  entity: css({
    fontFamily: theme.typography.fontFamilyMonospace,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    paddingRight: theme.spacing(1),
  }),
  cell: css({ height: 22, border: 'none', padding: 0, cursor: 'pointer', '&:disabled': { cursor: 'default' } }),
  axis: css({
    position: 'relative',
    height: 22,
    borderTop: `1px solid ${theme.colors.border.medium}`,
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.secondary,
  }),
  tick: css({
    position: 'absolute',
    top: 0,
    transform: 'translateX(-50%)',
    whiteSpace: 'nowrap',
    paddingTop: 2,
    '&::before': {
      content: '""',
      position: 'absolute',
      left: '50%',
      top: -1,
      height: 4,
      borderLeft: `1px solid ${theme.colors.border.strong}`,
    },
  }),
  legend: css({
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    marginTop: theme.spacing(1),
    marginLeft: 160,
    fontSize: theme.typography.bodySmall.fontSize,
    alignItems: 'center',
  }),
  swatch: css({ display: 'inline-block', width: 12, height: 12, marginRight: 2, verticalAlign: 'middle' }),
  quiet: css({ color: theme.colors.text.secondary }),
});

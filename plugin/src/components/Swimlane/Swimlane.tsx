import React from 'react';
import { css } from '@emotion/css';
import { colorManipulator, dateTimeFormat, type GrafanaTheme2 } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';

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
    return cells;
  });
}

interface Props {
  rows: SwimlaneRow[];
  from: number;
  to: number;
  buckets?: number;
  onSelect: (cell: SwimlaneCell) => void;
}

/** Entity × time: each cell coloured by its highest score, anomalous cells outlined; a click explains the peak. */
export function Swimlane({ rows, from, to, buckets = 48, onSelect }: Props) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const grid = toCells(rows, from, to, buckets);
  const colour = (c: SwimlaneCell) =>
    c.max < 0
      ? theme.colors.background.secondary
      : colorManipulator.alpha(theme.visualization.getColorByName(c.anomalous ? 'red' : 'green'), 0.15 + 0.85 * c.max);
  return (
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
              style={{
                background: colour(c),
                outline: c.anomalous ? `1px solid ${theme.visualization.getColorByName('red')}` : undefined,
              }}
              title={`${c.entity} ${dateTimeFormat(c.start)}: ${c.max < 0 ? 'no data' : `max score ${c.max.toFixed(3)}`}`}
              aria-label={`${c.entity} ${new Date(c.start).toISOString()} ${c.anomalous ? 'anomalous' : 'normal'}`}
              disabled={c.max < 0}
              onClick={() => onSelect(c)}
            />
          ))}
        </React.Fragment>
      ))}
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
});

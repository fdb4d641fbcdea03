import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';

export interface Contribution {
  feature: string;
  contribution: number;
  share: number;
}

/**
 * How much each feature moved the point towards anomalous (TreeSHAP on path length): bars to the
 * right push towards anomalous, to the left towards normal; the label gives the share of the total.
 * A legend under the bars says so in words.
 */
export function ContributionBars({
  contributions,
  limit = 10,
  label = (f) => f,
}: {
  contributions: Contribution[];
  limit?: number;
  /** A feature's name in words; the engine's name stays in the tooltip. */
  label?: (feature: string) => string;
}) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const shown = [...contributions].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, limit);
  const max = Math.max(1e-12, ...shown.map((c) => Math.abs(c.contribution)));
  return (
    <div className={styles.list} role="list" aria-label="Feature contributions">
      {shown.map((c) => {
        const width = `${(Math.abs(c.contribution) / max) * 50}%`;
        const towards = c.contribution >= 0;
        return (
          <div
            key={c.feature}
            className={styles.row}
            role="listitem"
            aria-label={`${label(c.feature)} ${(c.share * 100).toFixed(0)}%`}
          >
            <span className={styles.name} title={c.feature}>
              {label(c.feature)}
            </span>
            <span className={styles.track}>
              <span
                className={styles.bar}
                style={{
                  width,
                  left: towards ? '50%' : `calc(50% - ${width})`,
                  background: towards
                    ? theme.visualization.getColorByName('red')
                    : theme.visualization.getColorByName('blue'),
                }}
              />
            </span>
            <span className={styles.value}>{(c.share * 100).toFixed(1)}%</span>
          </div>
        );
      })}
      <div className={styles.legend}>
        <span style={{ color: theme.visualization.getColorByName('blue') }}>◀ towards normal</span>
        <span style={{ color: theme.visualization.getColorByName('red') }}>towards anomalous ▶</span>
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(0.5) }),
  row: css({ display: 'grid', gridTemplateColumns: '260px 1fr 60px', alignItems: 'center', gap: theme.spacing(1) }),
  name: css({
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
    fontFamily: theme.typography.fontFamilyMonospace,
  }),
  track: css({ position: 'relative', height: 14, background: theme.colors.background.secondary, borderRadius: 2 }),
  bar: css({ position: 'absolute', top: 0, bottom: 0, borderRadius: 2 }),
  value: css({ textAlign: 'right', color: theme.colors.text.secondary }),
  legend: css({
    display: 'grid',
    gridTemplateColumns: '1fr 1fr',
    marginLeft: 268,
    marginRight: 68,
    fontSize: theme.typography.bodySmall.fontSize,
    '& > span:last-child': { textAlign: 'right' },
  }),
});

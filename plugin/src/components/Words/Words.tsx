import React from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Button, Toggletip, Tooltip, useStyles2 } from '@grafana/ui';
import { featureLabel } from '../../format';
import { GLOSSARY, type Term } from '../../glossary';

/**
 * "What the words mean": the glossary entries a page uses, one click away. The full list is
 * docs/glossary.md.
 */
export function WordsHelp({ terms }: { terms: Term[] }) {
  const styles = useStyles2(getStyles);
  return (
    <Toggletip
      title="What the words on this page mean"
      placement="bottom-end"
      content={
        <dl className={styles.list} aria-label="Glossary">
          {terms.map((t) => (
            <React.Fragment key={t}>
              <dt className={styles.term}>{t}</dt>
              <dd className={styles.definition}>{GLOSSARY[t]}</dd>
            </React.Fragment>
          ))}
        </dl>
      }
      footer="All the terms: docs/glossary.md"
    >
      <Button variant="secondary" fill="text" icon="question-circle" size="sm">
        What the words mean
      </Button>
    </Toggletip>
  );
}

/** A model feature in plain words, with the engine's name for it in the tooltip. */
export function FeatureName({ name, intervalSeconds }: { name: string; intervalSeconds?: number }) {
  const label = featureLabel(name, intervalSeconds);
  if (label === name) {
    return <span>{name}</span>;
  }
  return (
    <Tooltip content={`Feature ${name}`}>
      <span tabIndex={0} data-feature={name}>
        {label}
      </span>
    </Tooltip>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  list: css({ maxWidth: 420, margin: 0 }),
  term: css({ fontWeight: theme.typography.fontWeightMedium, marginTop: theme.spacing(1) }),
  definition: css({ marginLeft: 0, color: theme.colors.text.secondary }),
});

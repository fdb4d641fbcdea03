import React, { useState } from 'react';
import { Alert, Badge, Collapse, InteractiveTable, Stack, Text } from '@grafana/ui';
import type { DetectorHealth, EntityHealth } from '../../api/types';
import { formatTime } from '../../format';
import { HealthBadge, lagWords } from '../Detectors/Health';

function Fact({ label, children }: { label: string; children: NonNullable<React.ReactNode> }) {
  return (
    <Stack direction="column" gap={0}>
      <Text color="secondary" variant="bodySmall">
        {label}
      </Text>
      <Text>{children}</Text>
    </Stack>
  );
}

/**
 * Whether the detector keeps up, for the top of its page: the state and why, up to when it is scored,
 * what this service scored and how often it failed since it started, the last training, drift, and
 * the same per entity. The numbers are GET /detectors/:id/health's, the ones /metrics exports.
 */
export function HealthSection({ health, error }: { health?: DetectorHealth; error?: string }) {
  // Open while an entity needs a look (as health reloads), until the user opens or closes it.
  const [chosen, setChosen] = useState<boolean>();
  if (error) {
    return (
      <Alert title="Health unknown" severity="warning">
        {error}
      </Alert>
    );
  }
  if (!health) {
    return null;
  }
  const h = health;
  const training = h.lastTraining;
  return (
    <section aria-label="Health">
      <Stack direction="column" gap={1}>
        <Stack gap={1} alignItems="center">
          <Text element="h3" variant="h5">
            Health
          </Text>
          <HealthBadge state={h.state} reason={h.reason} />
          <Text color="secondary">{h.reason}</Text>
        </Stack>
        <Stack gap={4} wrap="wrap">
          <Fact label="Scored up to">{h.scoredTo ? formatTime(h.scoredTo) : 'never'}</Fact>
          <Fact label="Behind">
            {h.lagSeconds !== undefined
              ? `${lagWords(h.lagSeconds)} (lagging past ${lagWords(h.lagLimits.lagging)})`
              : '–'}
          </Fact>
          <Fact label={`Scored since ${formatTime(h.since)}`}>
            {h.rowsScored} rows, {h.anomalies} anomalous
          </Fact>
          <Fact label="Scoring failures">
            {h.failures.total === 0
              ? 'none'
              : `${h.failures.total}, last ${formatTime(h.failures.lastAt!)}: ${h.failures.lastError ?? ''}`}
          </Fact>
          <Fact label="Last training">
            {training ? (
              <>
                <Badge
                  color={training.state === 'failed' ? 'red' : training.state === 'succeeded' ? 'green' : 'blue'}
                  text={training.state}
                />{' '}
                {formatTime(training.at)}
                {training.error ? `: ${training.error}` : ''}
              </>
            ) : (
              'never'
            )}
          </Fact>
          <Fact label="Drift">
            {h.drift.state === 'unchecked'
              ? 'not checked yet'
              : h.drift.state === 'drifted'
                ? `drifted: ${h.drift.driftedEntities.map((e) => e || 'all entities').join(', ')}`
                : `stable (checked ${formatTime(h.drift.checkedAt!)})`}
          </Fact>
        </Stack>
        {h.entities.length > 0 && (
          // When every entity is scored the summary says so in one line, and the table waits.
          <Collapse
            label={`Each entity (${h.entities.length})`}
            isOpen={chosen ?? h.entities.some((e) => e.state !== 'ok')}
            onToggle={setChosen}
          >
            <InteractiveTable
              getRowId={(e: EntityHealth) => e.entity}
              data={h.entities}
              columns={[
                { id: 'entity', header: 'Entity', cell: ({ row }) => row.original.entity || '(all entities)' },
                {
                  id: 'state',
                  header: 'Health',
                  cell: ({ row }) => <HealthBadge state={row.original.state} reason={row.original.reason} />,
                },
                {
                  id: 'version',
                  header: 'In production',
                  cell: ({ row }) =>
                    row.original.productionVersion !== undefined
                      ? `v${row.original.productionEntityVersion ?? row.original.productionVersion}`
                      : '–',
                },
                {
                  id: 'scoredTo',
                  header: 'Scored up to',
                  cell: ({ row }) => (row.original.scoredTo ? formatTime(row.original.scoredTo) : '–'),
                },
                {
                  id: 'lag',
                  header: 'Behind',
                  cell: ({ row }) => (row.original.lagSeconds !== undefined ? lagWords(row.original.lagSeconds) : '–'),
                },
                {
                  id: 'rows',
                  header: 'Rows (anomalous)',
                  cell: ({ row }) => `${row.original.rowsScored} (${row.original.anomalies})`,
                },
                { id: 'reason', header: 'Why', cell: ({ row }) => row.original.reason },
              ]}
            />
          </Collapse>
        )}
      </Stack>
    </section>
  );
}

import React from 'react';
import { Alert, Badge, Button, Stack, Text } from '@grafana/ui';
import type { ModelVersion, Stage } from '../../api/types';
import { byEntity, fmt, pct, summarize } from './metrics';

const STAGE_COLOURS: Record<Stage, 'green' | 'blue' | 'orange' | 'darkgrey'> = {
  production: 'green',
  staging: 'blue',
  candidate: 'orange',
  archived: 'darkgrey',
};

/** Each entity's versions, newest first, with their numbers and, for admins, the stage actions. */
export function ModelsTab(props: {
  models: ModelVersion[];
  error?: string;
  isAdmin: boolean;
  onStage: (v: ModelVersion, stage: Stage) => void;
  onRollback: (entity: string) => void;
}) {
  if (props.error) {
    return <Alert title="Cannot list models">{props.error}</Alert>;
  }
  if (props.models.length === 0) {
    return (
      <Text color="secondary">
        No models yet: press Train to learn this detector&apos;s normal from its training window.
      </Text>
    );
  }
  return (
    <Stack direction="column" gap={3}>
      {byEntity(props.models).map(([entity, versions]) => (
        <section key={entity} aria-label={`Models of ${entity || 'all'}`}>
          <Stack justifyContent="space-between" alignItems="center">
            <Text element="h4">{entity || '(all entities)'}</Text>
            {props.isAdmin && versions.length > 1 && (
              <Button size="sm" variant="secondary" icon="history" onClick={() => props.onRollback(entity)}>
                Roll back
              </Button>
            )}
          </Stack>
          <table className="filter-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Stage</th>
                <th>Trained</th>
                <th>Rows</th>
                <th>Threshold</th>
                <th>Flagged (test)</th>
                <th>ROC-AUC</th>
                <th>PR-AUC</th>
                <th>Chosen by</th>
                {props.isAdmin && <th>Actions</th>}
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => {
                const s = summarize(v);
                return (
                  <tr key={v.version}>
                    <td>v{v.version}</td>
                    <td>
                      <Badge color={STAGE_COLOURS[v.stage]} text={v.stage} />
                    </td>
                    <td>{new Date(v.trainedAt).toLocaleString()}</td>
                    <td>{s.rows ?? '–'}</td>
                    <td>
                      {fmt(s.threshold)}
                      {s.thresholdBy && <Text color="secondary"> ({s.thresholdBy})</Text>}
                    </td>
                    <td>{pct(s.flaggedShare)}</td>
                    <td>{fmt(s.rocAuc)}</td>
                    <td>{fmt(s.prAuc)}</td>
                    <td>{s.criterion ?? '–'}</td>
                    {props.isAdmin && (
                      <td>
                        <Stack gap={0.5}>
                          {v.stage !== 'production' && (
                            <Button size="sm" onClick={() => props.onStage(v, 'production')}>
                              Promote
                            </Button>
                          )}
                          {v.stage === 'candidate' && (
                            <Button size="sm" variant="secondary" onClick={() => props.onStage(v, 'staging')}>
                              Stage
                            </Button>
                          )}
                          {v.stage !== 'archived' && v.stage !== 'production' && (
                            <Button
                              size="sm"
                              variant="secondary"
                              fill="text"
                              onClick={() => props.onStage(v, 'archived')}
                            >
                              Archive
                            </Button>
                          )}
                        </Stack>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ))}
    </Stack>
  );
}

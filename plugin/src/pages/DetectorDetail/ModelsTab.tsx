import React from 'react';
import { Alert, Badge, Button, Stack, Text } from '@grafana/ui';
import type { ModelVersion, Stage } from '../../api/types';
import { formatTime } from '../../format';
import { byEntity, fmt, pct, summarize, versionLabel } from './metrics';

const STAGE_COLOURS: Record<Stage, 'green' | 'blue' | 'orange' | 'darkgrey'> = {
  production: 'green',
  staging: 'blue',
  candidate: 'orange',
  archived: 'darkgrey',
};

const COLUMNS = [
  'Entity',
  'Version',
  'Stage',
  'Trained',
  'Rows',
  'Threshold',
  'Flagged (test)',
  'ROC-AUC',
  'PR-AUC',
  'Chosen by',
] as const;

/**
 * One table of every entity's versions, grouped by entity (newest first), with their numbers and,
 * for admins, the stage actions. The entity heads its group once, with its roll back.
 */
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
    <table className="filter-table" aria-label="Model versions">
      <thead>
        <tr>
          {COLUMNS.map((c) => (
            <th key={c}>{c}</th>
          ))}
          {props.isAdmin && <th>Actions</th>}
        </tr>
      </thead>
      {byEntity(props.models).map(([entity, versions]) => {
        const production = versions.some((v) => v.stage === 'production');
        return (
          <tbody key={entity} aria-label={`Models of ${entity || 'all'}`}>
            {versions.map((v, k) => {
              const s = summarize(v);
              return (
                <tr key={v.version}>
                  {k === 0 && (
                    <th scope="rowgroup" rowSpan={versions.length} style={{ verticalAlign: 'top' }}>
                      <Stack direction="column" gap={0.5} alignItems="flex-start">
                        <span>{entity || '(all entities)'}</span>
                        {!production && <Badge color="orange" text="not scored" tooltip="No version in production" />}
                        {props.isAdmin && versions.length > 1 && production && (
                          <Button
                            size="sm"
                            variant="secondary"
                            fill="text"
                            icon="history"
                            onClick={() => props.onRollback(entity)}
                          >
                            Roll back
                          </Button>
                        )}
                      </Stack>
                    </th>
                  )}
                  <td title={`version id ${v.version}`}>{versionLabel(v)}</td>
                  <td>
                    <Badge color={STAGE_COLOURS[v.stage]} text={v.stage} />
                  </td>
                  <td>{formatTime(v.trainedAt)}</td>
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
        );
      })}
    </table>
  );
}

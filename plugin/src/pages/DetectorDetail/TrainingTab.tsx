import React, { useState } from 'react';
import { Button, RadioButtonGroup, Stack, Text } from '@grafana/ui';
import type { Job } from '../../api/types';
import { formatTime } from '../../format';

const BACKFILL_HOURS = [6, 24, 48, 168].map((h) => ({ value: h, label: h < 48 ? `${h} h` : `${h / 24} d` }));

/** Training and backfill jobs with their progress; editors start backfills and cancel jobs. */
export function TrainingTab(props: {
  jobs: Job[];
  canEdit: boolean;
  onCancel: (j: Job) => void;
  onBackfill: (hours: number) => void;
}) {
  const [hours, setHours] = useState(24);
  return (
    <Stack direction="column" gap={2}>
      {props.canEdit && (
        <Stack alignItems="center" gap={1}>
          <Text>Score past data with the production models:</Text>
          <RadioButtonGroup options={BACKFILL_HOURS} value={hours} onChange={setHours} size="sm" />
          <Button size="sm" variant="secondary" icon="history-alt" onClick={() => props.onBackfill(hours)}>
            Backfill
          </Button>
        </Stack>
      )}
      {props.jobs.length === 0 ? <Text color="secondary">No training runs yet.</Text> : <JobsTable {...props} />}
    </Stack>
  );
}

function JobsTable({ jobs, canEdit, onCancel }: { jobs: Job[]; canEdit: boolean; onCancel: (j: Job) => void }) {
  return (
    <table className="filter-table" aria-label="Training runs">
      <thead>
        <tr>
          <th>Started</th>
          <th>Kind</th>
          <th>State</th>
          <th>Progress</th>
          <th>Result</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id}>
            <td>{formatTime(j.startedAt ?? j.createdAt)}</td>
            <td>{j.kind}</td>
            <td>{j.state}</td>
            <td>
              <progress max={1} value={j.progress} aria-label={`${j.kind} progress`} /> {Math.round(j.progress * 100)}%{' '}
              {j.phase}
            </td>
            <td>{j.error ?? resultText(j)}</td>
            <td>
              {canEdit && (j.state === 'queued' || j.state === 'running') && (
                <Button size="sm" variant="secondary" onClick={() => onCancel(j)}>
                  Cancel
                </Button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function resultText(j: Job): string {
  const r = j.result as
    { entities?: Array<{ entity: string; version: number; stage: string }>; skipped?: unknown[] } | undefined;
  if (!r?.entities) {
    return '';
  }
  const skipped = r.skipped?.length ? `, ${r.skipped.length} skipped` : '';
  return `${r.entities.length} model${r.entities.length === 1 ? '' : 's'}${skipped}`;
}

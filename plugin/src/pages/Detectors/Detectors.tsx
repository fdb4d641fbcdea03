import React from 'react';
import { PluginPage } from '@grafana/runtime';
import { Alert, EmptyState, InteractiveTable, LinkButton, LoadingPlaceholder, TextLink } from '@grafana/ui';
import type { Detector } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { ROUTES, detectorUrl, prefixRoute } from '../../constants';
import { formatTime } from '../../format';
import { useLoad } from '../../hooks/useLoad';
import { HealthCell } from './Health';

/** What a detector reads, in one line: `cpu (preset) every 60 s` or `disk: used_percent, inodes_used`. */
export function describeSource(d: Detector): string {
  const s = d.spec.source;
  const what =
    'preset' in s ? `${s.preset} (Telegraf preset)` : `${s.measurement}: ${s.fields.map((f) => f.field).join(', ')}`;
  return `${what}, every ${d.spec.intervalSeconds} s`;
}

/** The detectors, with a way to create one for editors. */
export function Detectors() {
  const { client } = useIsoscope();
  const detectors = useLoad(() => client.detectors(), [client]);
  const canEdit = hasRole('Editor');
  const create = canEdit ? (
    <LinkButton icon="plus" href={`${prefixRoute(ROUTES.Detectors)}/new`}>
      New detector
    </LinkButton>
  ) : undefined;
  return (
    <PluginPage actions={create}>
      {detectors.error && <Alert title="Cannot list detectors">{detectors.error}</Alert>}
      {detectors.loading && !detectors.value && <LoadingPlaceholder text="Loading detectors…" />}
      {detectors.value?.length === 0 && (
        <EmptyState variant="call-to-action" message="No detectors yet" button={create}>
          A detector watches one Telegraf measurement (cpu, mem, net, disk…) per host and learns what normal looks like.
        </EmptyState>
      )}
      {detectors.value && detectors.value.length > 0 && (
        <InteractiveTable
          getRowId={(d: Detector) => d.id}
          data={detectors.value}
          columns={[
            {
              id: 'name',
              header: 'Name',
              cell: ({ row }) => (
                <TextLink href={detectorUrl(row.original.id)} inline={false}>
                  {row.original.name}
                </TextLink>
              ),
            },
            { id: 'health', header: 'Health', cell: ({ row }) => <HealthCell id={row.original.id} /> },
            { id: 'source', header: 'Source', cell: ({ row }) => describeSource(row.original) },
            { id: 'promotion', header: 'Promotion', cell: ({ row }) => row.original.spec.schedule.promotion },
            {
              id: 'updatedAt',
              header: 'Updated',
              cell: ({ row }) => formatTime(row.original.updatedAt),
            },
          ]}
        />
      )}
    </PluginPage>
  );
}

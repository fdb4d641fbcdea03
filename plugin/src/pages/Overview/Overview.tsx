import React from 'react';
import { Link } from 'react-router-dom';
import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, InteractiveTable, LoadingPlaceholder, Stack, Text } from '@grafana/ui';
import type { IsoscopeClient } from '../../api/client';
import type { Anomaly, Detector, Job, ModelVersion } from '../../api/types';
import { useIsoscope } from '../../components/App/context';
import { ROUTES, detectorUrl, explainUrl, prefixRoute } from '../../constants';
import { useLoad } from '../../hooks/useLoad';

interface DetectorHealth {
  detector: Detector;
  production: number;
  entities: number;
  lastJob?: Job;
  anomalies: Anomaly[];
}

const DAY = 24 * 3600 * 1000;

async function loadOverview(client: IsoscopeClient, now: number): Promise<DetectorHealth[]> {
  const range = { from: new Date(now - DAY).toISOString(), to: new Date(now).toISOString() };
  const detectors = await client.detectors();
  return Promise.all(
    detectors.map(async (detector) => {
      const [models, jobs, anomalies] = await Promise.all([
        client.models(detector.id),
        client.jobs(detector.id),
        client.anomalies(detector.id, range).catch(() => [] as Anomaly[]),
      ]);
      return {
        detector,
        production: models.filter((m: ModelVersion) => m.stage === 'production').length,
        entities: new Set(models.map((m) => m.entity)).size,
        lastJob: jobs[0],
        anomalies,
      };
    })
  );
}

/** Most anomalous entities across detectors: count of flagged points, then the highest score. */
export function topEntities(health: DetectorHealth[], limit = 10) {
  const by = new Map<string, { detector: string; entity: string; count: number; max: number; at: string }>();
  for (const h of health) {
    for (const a of h.anomalies) {
      const key = `${h.detector.id}\u0000${a.entity}`;
      const e = by.get(key) ?? { detector: h.detector.id, entity: a.entity, count: 0, max: 0, at: a.time };
      e.count++;
      if (a.score > e.max) {
        e.max = a.score;
        e.at = a.time;
      }
      by.set(key, e);
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count || b.max - a.max).slice(0, limit);
}

function jobBadge(job?: Job) {
  if (!job) {
    return <Badge color="orange" text="never trained" />;
  }
  const colour =
    job.state === 'succeeded' ? 'green' : job.state === 'failed' ? 'red' : job.state === 'running' ? 'blue' : 'orange';
  return <Badge color={colour} text={`${job.kind} ${job.state}`} />;
}

/** Detectors and their health, anomalies in the last 24 hours, the most anomalous entities. */
export function Overview() {
  const { client } = useIsoscope();
  const overview = useLoad(() => loadOverview(client, Date.now()), [client]);
  const health = overview.value ?? [];
  const total = health.reduce((n, h) => n + h.anomalies.length, 0);
  return (
    <PluginPage>
      {overview.error && <Alert title="Cannot reach Isoscope">{overview.error}</Alert>}
      {overview.loading && !overview.value && <LoadingPlaceholder text="Loading detectors…" />}
      {overview.value && (
        <Stack direction="column" gap={3}>
          <Text element="p">
            {health.length} detector{health.length === 1 ? '' : 's'}, {total} anomalous point{total === 1 ? '' : 's'} in
            the last 24 hours. <Link to={prefixRoute(ROUTES.Explorer)}>Open the anomaly explorer</Link>
          </Text>
          <section aria-label="Detectors">
            <Text element="h3">Detectors</Text>
            <InteractiveTable
              getRowId={(h: DetectorHealth) => h.detector.id}
              data={health}
              columns={[
                {
                  id: 'name',
                  header: 'Detector',
                  cell: ({ row }) => (
                    <Link to={detectorUrl(row.original.detector.id)}>{row.original.detector.name}</Link>
                  ),
                },
                {
                  id: 'production',
                  header: 'Models in production',
                  cell: ({ row }) => `${row.original.production} of ${row.original.entities} entities`,
                },
                { id: 'job', header: 'Last job', cell: ({ row }) => jobBadge(row.original.lastJob) },
                { id: 'anomalies', header: 'Anomalies (24 h)', cell: ({ row }) => row.original.anomalies.length },
              ]}
            />
          </section>
          <section aria-label="Most anomalous entities">
            <Text element="h3">Most anomalous entities (24 h)</Text>
            {topEntities(health).length === 0 ? (
              <Text color="secondary">Nothing anomalous in the last 24 hours.</Text>
            ) : (
              <InteractiveTable
                getRowId={(e: ReturnType<typeof topEntities>[number]) => `${e.detector}/${e.entity}`}
                data={topEntities(health)}
                columns={[
                  { id: 'entity', header: 'Entity' },
                  { id: 'detector', header: 'Detector' },
                  { id: 'count', header: 'Anomalous points' },
                  { id: 'max', header: 'Highest score', cell: ({ row }) => row.original.max.toFixed(3) },
                  {
                    id: 'explain',
                    header: '',
                    cell: ({ row }) => (
                      <Link to={explainUrl(row.original.detector, row.original.entity, row.original.at)}>
                        Explain the peak
                      </Link>
                    ),
                  },
                ]}
              />
            )}
          </section>
        </Stack>
      )}
    </PluginPage>
  );
}

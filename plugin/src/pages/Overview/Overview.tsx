import React from 'react';
import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, InteractiveTable, LoadingPlaceholder, Stack, Text, TextLink } from '@grafana/ui';
import type { IsoscopeClient } from '../../api/client';
import type { Anomaly, Detector, Feedback, Incident, Job, ModelVersion } from '../../api/types';
import { useIsoscope } from '../../components/App/context';
import type { SwimlaneRow } from '../../components/Swimlane/Swimlane';
import { WordsHelp } from '../../components/Words/Words';
import { ROUTES, detectorUrl, explainUrl, incidentsUrl, prefixRoute } from '../../constants';
import { useLoad } from '../../hooks/useLoad';
import { representativeMoment } from '../../peak';
import { unscored } from '../DetectorDetail/metrics';
import { toRows } from '../Explorer/Explorer';
import { IncidentTable } from '../Incidents/Incidents';

interface DetectorHealth {
  detector: Detector;
  production: number;
  entities: number;
  /** Entities with versions but none in production: nothing scores them. */
  unscored: string[];
  lastJob?: Job;
  anomalies: Anomaly[];
  /** Each entity's scores over the day, to find the moment worth explaining. */
  scores: SwimlaneRow[];
}

const DAY = 24 * 3600 * 1000;

interface OverviewData {
  health: DetectorHealth[];
  /** Incidents firing now, whenever they started. */
  firing: Incident[];
  /** Incidents of the last 24 hours that are over. */
  resolved: Incident[];
}

async function loadOverview(client: IsoscopeClient, now: number): Promise<OverviewData> {
  const range = { from: new Date(now - DAY).toISOString(), to: new Date(now).toISOString() };
  const [health, firing, recent] = await Promise.all([
    loadHealth(client, range),
    client.incidents({ state: 'firing' }),
    client.incidents({ ...range, state: 'resolved' }),
  ]);
  return { health, firing, resolved: recent };
}

async function loadHealth(client: IsoscopeClient, range: { from: string; to: string }): Promise<DetectorHealth[]> {
  const detectors = await client.detectors();
  return Promise.all(
    detectors.map(async (detector) => {
      const [models, jobs, anomalies, scores] = await Promise.all([
        client.models(detector.id),
        client.jobs(detector.id),
        client.anomalies(detector.id, range).catch(() => [] as Anomaly[]),
        client
          .query(range, [{ refId: 'A', detector: detector.id, entity: '', return: 'score' }])
          .then((r) => toRows(r.frames))
          .catch(() => [] as SwimlaneRow[]),
      ]);
      return {
        detector,
        production: models.filter((m: ModelVersion) => m.stage === 'production').length,
        entities: new Set(models.map((m) => m.entity)).size,
        unscored: unscored(models).map((u) => u.entity || '(all entities)'),
        lastJob: jobs[0],
        anomalies,
        scores,
      };
    })
  );
}

/**
 * Most anomalous entities across detectors: count of flagged points, then the highest score. `at`
 * is the moment to explain: the peak of the smoothed score over the flagged stretch where it is
 * highest (`representativeMoment`), so a one-minute blip does not win over an incident; without the
 * scores, the highest flagged point.
 */
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
    for (const row of h.scores) {
      const e = by.get(`${h.detector.id}\u0000${row.entity}`);
      const m = e && representativeMoment(row.time, row.score, row.anomaly);
      if (e && m) {
        e.at = new Date(m.time).toISOString();
      }
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

/**
 * Led by what needs a person: incidents firing now, then the last day's incidents; then detectors
 * and their health, and the most anomalous entities.
 */
export function Overview() {
  const { client } = useIsoscope();
  const overview = useLoad(() => loadOverview(client, Date.now()), [client]);
  const health = overview.value?.health ?? [];
  const total = health.reduce((n, h) => n + h.anomalies.length, 0);
  const names = React.useMemo(
    () => Object.fromEntries((overview.value?.health ?? []).map((h) => [h.detector.id, h.detector.name])),
    [overview.value]
  );
  const [given, setGiven] = React.useState<Record<string, Feedback>>({});
  const withVerdicts = (list: Incident[]) => list.map((i) => (given[i.id] ? { ...i, feedback: given[i.id] } : i));
  const firing = withVerdicts(overview.value?.firing ?? []);
  const resolved = withVerdicts(overview.value?.resolved ?? []);
  const onFeedback = React.useCallback((id: string, f: Feedback) => setGiven((g) => ({ ...g, [id]: f })), []);
  return (
    <PluginPage
      actions={
        <WordsHelp
          terms={['incident', 'verdict', 'detector', 'entity', 'score', 'anomalous', 'stretch', 'not scored']}
        />
      }
    >
      {overview.error && <Alert title="Cannot reach Isoscope">{overview.error}</Alert>}
      {overview.loading && !overview.value && <LoadingPlaceholder text="Loading detectors…" />}
      {overview.value && (
        <Stack direction="column" gap={3}>
          <Text element="p">
            {firing.length} incident{firing.length === 1 ? '' : 's'} firing now, {resolved.length} resolved in the last
            24 hours ({total} anomalous point{total === 1 ? '' : 's'}), {health.length} detector
            {health.length === 1 ? '' : 's'}. <TextLink href={incidentsUrl()}>All incidents</TextLink> ·{' '}
            <TextLink href={prefixRoute(ROUTES.Explorer)}>Open the anomaly explorer</TextLink>
          </Text>
          <section aria-label="Firing now">
            <Text element="h3">Firing now</Text>
            {firing.length === 0 ? (
              <Text color="secondary">Nothing is firing.</Text>
            ) : (
              <IncidentTable incidents={firing} detectorNames={names} onFeedback={onFeedback} />
            )}
          </section>
          <section aria-label="Incidents in the last 24 hours">
            <Text element="h3">Resolved in the last 24 hours</Text>
            {resolved.length === 0 ? (
              <Text color="secondary">No incident ended in the last 24 hours.</Text>
            ) : (
              <IncidentTable incidents={resolved} detectorNames={names} onFeedback={onFeedback} />
            )}
          </section>
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
                    <TextLink href={detectorUrl(row.original.detector.id)} inline={false}>
                      {row.original.detector.name}
                    </TextLink>
                  ),
                },
                {
                  id: 'production',
                  header: 'Models in production',
                  cell: ({ row }) => (
                    <Stack gap={1} alignItems="center">
                      <span>
                        {row.original.production} of {row.original.entities} entities
                      </span>
                      {row.original.unscored.length > 0 && (
                        <Badge
                          color="orange"
                          icon="exclamation-triangle"
                          text={`not scored: ${row.original.unscored.join(', ')}`}
                          tooltip="No version in production: nothing scores these. Promote one on the detector's page."
                        />
                      )}
                    </Stack>
                  ),
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
                      <TextLink
                        href={explainUrl(row.original.detector, row.original.entity, row.original.at)}
                        inline={false}
                      >
                        Explain the peak
                      </TextLink>
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

import React from 'react';
import { useSearchParams } from 'react-router-dom';
import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, Icon, LinkButton, LoadingPlaceholder, Stack, Text, TextLink, Tooltip } from '@grafana/ui';
import type { IsoscopeClient } from '../../api/client';
import type { Explanation, Feedback, Incident, ModelVersion } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { ContributionBars } from '../../components/ContributionBars/ContributionBars';
import { FeedbackButtons } from '../../components/Feedback/Feedback';
import { Sparkline } from '../../components/Sparkline/Sparkline';
import { FeatureName, WordsHelp } from '../../components/Words/Words';
import { DEFAULT_DATASOURCE_UID, detectorUrl, incidentExplainUrl, incidentsUrl } from '../../constants';
import { featureLabel, formatTime } from '../../format';
import { useLoad } from '../../hooks/useLoad';
import { changeLabel } from '../DetectorDetail/metrics';
import { duration, StateBadge, SuppressSimilarLink } from '../Incidents/Incidents';
import { exploreUrl, hostDashboardUrl } from './links';

/** Reads `time` as Grafana links write it: epoch milliseconds or an ISO date. */
export function parseTime(value: string | null): number | undefined {
  if (!value) {
    return undefined;
  }
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * The incident a moment belongs to: the one named in the link (`incident=`), else the entity's
 * incident whose span holds the moment, if any.
 */
async function findIncident(
  client: IsoscopeClient,
  id: string | null,
  detector: string,
  entity: string,
  time: number
): Promise<Incident | undefined> {
  if (id) {
    return client.incident(id);
  }
  const around = await client.incidents({
    detector,
    entity,
    from: new Date(time).toISOString(),
    to: new Date(time + 1).toISOString(),
  });
  return around.find((i) => Date.parse(i.start) <= time && time <= Date.parse(i.end));
}

/**
 * One anomaly explained by the model that scored it: which features made it, where each value sits
 * against what the model learnt, whether the replay reproduced the stored score, the raw series.
 */
export function Explain() {
  const { client, settings } = useIsoscope();
  const [params] = useSearchParams();
  const detector = params.get('detector') ?? '';
  const entity = params.get('entity') ?? '';
  const time = parseTime(params.get('time'));
  const explanation = useLoad(
    () =>
      detector && time !== undefined
        ? client.explain(detector, entity, new Date(time).toISOString())
        : Promise.resolve(undefined),
    [client, detector, entity, time]
  );
  // Feature names count in scoring intervals ("vs its last hour" is z60 at 60 s): the detector says which.
  const spec = useLoad(
    () => (detector ? client.detector(detector).catch(() => undefined) : Promise.resolve(undefined)),
    [client, detector]
  );
  const incidentId = params.get('incident');
  const incident = useLoad(
    () =>
      detector && time !== undefined
        ? findIncident(client, incidentId, detector, entity, time).catch(() => undefined)
        : Promise.resolve(undefined),
    [client, incidentId, detector, entity, time]
  );
  // The explanation names the model by its detector-wide id; the versions say its number for its entity (v1, v2, …).
  const models = useLoad(
    () => (detector ? client.models(detector).catch(() => undefined) : Promise.resolve(undefined)),
    [client, detector]
  );
  const [verdict, setVerdict] = React.useState<Feedback>();
  const interval = spec.value?.spec.intervalSeconds;
  if (!detector || time === undefined) {
    return (
      <PluginPage>
        <Alert title="Which moment?" severity="info">
          Open this page from an anomaly (the panel, the explorer or a table link): it needs a detector, an entity and a
          time.
        </Alert>
      </PluginPage>
    );
  }
  return (
    <PluginPage
      pageNav={{ text: `${entity || detector} at ${formatTime(time)}` }}
      actions={
        <WordsHelp
          terms={[
            'score',
            'threshold',
            'severity',
            'stretch',
            'feature',
            'contribution',
            'training range',
            'learnt range',
            'isolation forest',
          ]}
        />
      }
    >
      {incident.value && (
        <IncidentSummary incident={incident.value} time={time} verdict={verdict} onVerdict={setVerdict} />
      )}
      {explanation.error && <Alert title="No explanation">{explanation.error}</Alert>}
      {explanation.loading && !explanation.value && <LoadingPlaceholder text="Explaining…" />}
      {explanation.value && (
        <ExplanationView
          e={explanation.value}
          detectorName={spec.value?.name ?? detector}
          models={models.loading ? undefined : (models.value ?? [])}
          interval={interval}
          explore={exploreUrl(settings.datasourceUid || DEFAULT_DATASOURCE_UID, detector, entity, time)}
          dashboard={hostDashboardUrl(settings.hostDashboardUid || 'isoscope-host-drilldown', entity, time)}
        />
      )}
    </PluginPage>
  );
}

/** The incident this moment belongs to: its span, state and verdict, with the buttons that give one. */
function IncidentSummary({
  incident,
  time,
  verdict,
  onVerdict,
}: {
  incident: Incident;
  time: number;
  verdict?: Feedback;
  onVerdict: (f: Feedback) => void;
}) {
  return (
    <section aria-label="Incident">
      <Stack direction="column" gap={1}>
        <Stack alignItems="center" gap={1} wrap="wrap">
          <StateBadge incident={incident} />
          <Text>
            Part of an incident on {incident.entity || 'all entities'} from {formatTime(incident.start)} to{' '}
            {formatTime(incident.end)} ({duration(incident)}, {incident.flagged} flagged points, {incident.severity}
            ).{' '}
            {Date.parse(incident.peak) === time ? (
              'This is its peak: where its score, averaged over 5 points, was highest.'
            ) : (
              <TextLink href={incidentExplainUrl(incident)} inline>
                Explain its peak
              </TextLink>
            )}{' '}
            <TextLink href={incidentsUrl({ detector: incident.detector, entity: incident.entity })} inline>
              Its other incidents
            </TextLink>
            {hasRole('Editor') && (
              <>
                {' · '}
                <SuppressSimilarLink incident={incident} inline />
              </>
            )}
          </Text>
        </Stack>
        <FeedbackButtons incident={incident.id} current={verdict ?? incident.feedback} onSaved={onVerdict} />
      </Stack>
    </section>
  );
}

/** The forest group in words: which kind of features it sees. */
const GROUP_WORDS: Record<NonNullable<Explanation['forest']>['group'], string> = {
  levels: 'the forest that judges levels (values, their recent past, their hour)',
  changes: 'the forest that judges changes (how far each value moved since the previous point)',
  all: 'the forest that judges every feature at once (levels and changes together)',
};

/**
 * How the breakdown was made, in a sentence: by the forests that scored the moment, rebuilt by
 * replaying the model from its checkpoint. When the replay did not give the stored score, a
 * warning with the service's reason: the breakdown is then the replay's, not the stored result's.
 */
function Provenance({ e }: { e: Explanation }) {
  const explained = e.forest?.explainedTime;
  const other = explained !== undefined && Date.parse(explained) !== Date.parse(e.time);
  return (
    <div data-testid="provenance">
      {e.reproduced ? (
        <Text color="secondary">
          <Icon name="check-circle" aria-hidden /> Explained by the model that scored it: replayed from its checkpoint
          over the {e.replay.rows} points since ({formatTime(e.replay.from)}), it gives the same score.
          {e.forest && (
            <>
              {' '}
              The score came from {GROUP_WORDS[e.forest.group]}
              {e.forest.trees ? `, ${e.forest.trees} trees` : ''}.
            </>
          )}
          {other && (
            <>
              {' '}
              The score is the mean of the last few points: the breakdown is of the point at {formatTime(explained)},
              the one of them that forest found most unusual.
            </>
          )}
        </Text>
      ) : (
        <Alert title="The breakdown could not be reproduced exactly" severity="warning">
          {e.note ?? 'Replaying the model did not give the stored score.'}
          {e.replay.score !== undefined && (
            <>
              {' '}
              Replayed score {e.replay.score.toFixed(3)}, stored {e.score.toFixed(3)}.
            </>
          )}
        </Alert>
      )}
      {e.reproduced && e.note && <Text color="secondary"> {e.note}</Text>}
    </div>
  );
}

/** A feature's value against what the forest learnt: its trees' split range, and whether the value is beyond it. */
function LearntRange({ c }: { c: Explanation['contributions'][number] }) {
  if (c.learntLow === undefined || c.learntHigh === undefined) {
    return <span title="No tree splits on this feature: it did not vary where the trees looked">—</span>;
  }
  const beyond = c.value < c.learntLow || c.value > c.learntHigh;
  return (
    <span data-testid="learnt-range">
      {Number(c.learntLow.toPrecision(4))} – {Number(c.learntHigh.toPrecision(4))}
      {beyond && (
        <>
          {' '}
          <Badge color="red" text={c.value > c.learntHigh ? 'above it' : 'below it'} />
        </>
      )}
    </span>
  );
}

function ExplanationView({
  e,
  detectorName,
  models,
  interval,
  explore,
  dashboard,
}: {
  e: Explanation;
  detectorName: string;
  /** The detector's versions, to name the model as its entity numbers it; undefined while they load. */
  models?: ModelVersion[];
  interval?: number;
  explore: string;
  dashboard: string;
}) {
  const t = Date.parse(e.time);
  return (
    <Stack direction="column" gap={3}>
      <Stack alignItems="center" gap={2} wrap="wrap">
        <Badge color={e.anomaly ? 'red' : 'green'} text={e.anomaly ? 'anomalous' : 'normal'} />
        <Text>
          Score <strong>{e.score.toFixed(3)}</strong> against the threshold {e.threshold.toFixed(3)}, model{' '}
          <span title={`version id ${e.modelVersion}`} data-testid="model-version">
            {models ? changeLabel({ version: e.modelVersion }, models) : '…'}
          </span>{' '}
          of{' '}
          <TextLink href={detectorUrl(e.detector)} inline>
            {detectorName}
          </TextLink>{' '}
          <Tooltip
            content={`The model's trees set this moment apart after ${e.pathLength.toFixed(1)} splits on average, where a typical training moment takes ${e.baseline.toFixed(1)}: the fewer, the more unusual, and the higher the score.`}
          >
            <Icon name="info-circle" aria-label="How the score is made" tabIndex={0} />
          </Tooltip>
        </Text>
        <LinkButton size="sm" variant="secondary" icon="compass" href={explore}>
          Explore
        </LinkButton>
        <LinkButton size="sm" variant="secondary" icon="apps" href={dashboard}>
          Host dashboard
        </LinkButton>
      </Stack>
      <Provenance e={e} />
      {e.contributions.length > 0 && (
        <>
          <section aria-label="Contributions">
            <Text element="h3">What made this moment {e.anomaly ? 'anomalous' : 'score as it did'}</Text>
            <ContributionBars contributions={e.contributions} label={(f) => featureLabel(f, interval)} />
          </section>
          <section aria-label="Against training">
            <Text element="h3">Each feature against what the model learnt</Text>
            <table className="filter-table">
              <thead>
                <tr>
                  <th>Feature</th>
                  <th>Value</th>
                  <th>Recent normal: 5th percentile – median – 95th</th>
                  <th>Where the value sits</th>
                  <th>Range the trees learnt</th>
                </tr>
              </thead>
              <tbody>
                {e.contributions.map((c) => (
                  <tr key={c.feature}>
                    <td>
                      <FeatureName name={c.feature} intervalSeconds={interval} />
                    </td>
                    <td>{Number(c.value.toPrecision(5))}</td>
                    <td>
                      {Number(c.trainingP5.toPrecision(4))} – {Number(c.trainingMedian.toPrecision(4))} –{' '}
                      {Number(c.trainingP95.toPrecision(4))}
                    </td>
                    <td>
                      <PercentileBar value={c.percentile} />
                    </td>
                    <td>
                      <LearntRange c={c} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
      <section aria-label="Raw series">
        <Text element="h3">The raw series around the moment</Text>
        {e.series.fields.map((f, i) => {
          const c = e.contributions.find((x) => x.feature === f);
          return (
            <Stack key={f} alignItems="center" gap={1}>
              <span style={{ width: 180, fontFamily: 'monospace' }} title={f}>
                {featureLabel(f, interval)}
              </span>
              <Sparkline
                time={e.series.time}
                values={e.series.values[i] ?? []}
                width={520}
                height={48}
                marker={t}
                band={c ? { low: c.trainingP5, high: c.trainingP95 } : undefined}
                label={`${featureLabel(f, interval)} around the anomaly`}
              />
            </Stack>
          );
        })}
      </section>
    </Stack>
  );
}

/** Where a value sits in its training distribution: a track with a marker, red beyond the 5th/95th. */
function PercentileBar({ value }: { value: number }) {
  const outside = value < 0.05 || value > 0.95;
  return (
    <span
      aria-label={`percentile ${(value * 100).toFixed(1)}`}
      style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}
    >
      <span
        style={{ position: 'relative', width: 120, height: 8, background: 'rgba(128,128,128,0.25)', borderRadius: 4 }}
      >
        <span
          style={{
            position: 'absolute',
            left: `calc(${Math.min(1, Math.max(0, value)) * 100}% - 4px)`,
            width: 8,
            height: 8,
            borderRadius: 4,
            background: outside ? '#e02f44' : '#73bf69',
          }}
        />
      </span>
      {(value * 100).toFixed(1)}
    </span>
  );
}

import React, { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Button,
  ConfirmModal,
  LinkButton,
  LoadingPlaceholder,
  Stack,
  Tab,
  TabsBar,
  TabContent,
} from '@grafana/ui';
import { toIsoscopeError } from '../../api/client';
import type { ModelVersion, Stage } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { WordsHelp } from '../../components/Words/Words';
import { ROUTES, detectorUrl, prefixRoute } from '../../constants';
import { useLoad } from '../../hooks/useLoad';
import { describeSource } from '../Detectors/Detectors';
import { AlertingTab } from './AlertingTab';
import { DriftTab } from './DriftTab';
import { HealthSection } from './HealthSection';
import { HistoryTab } from './HistoryTab';
import { unscored, versionLabel } from './metrics';
import { ModelsTab } from './ModelsTab';
import { ResultsTab } from './ResultsTab';
import { StageDialog } from './StageDialog';
import { TrainingTab } from './TrainingTab';

type TabId = 'results' | 'models' | 'training' | 'drift' | 'alerting' | 'history';
const TABS: Array<{ id: TabId; label: string }> = [
  { id: 'results', label: 'Results' },
  { id: 'models', label: 'Model versions' },
  { id: 'training', label: 'Training runs' },
  { id: 'drift', label: 'Drift' },
  { id: 'alerting', label: 'Alert rule' },
  { id: 'history', label: 'Stage history' },
];

interface PendingStage {
  version: ModelVersion;
  stage: Stage;
}

/**
 * One detector, its results first (the timeline per entity), then which entities are not scored and
 * why, its versions grouped by entity, training with progress, drift per feature, alert rule, history.
 */
export function DetectorDetail() {
  const { id = '' } = useParams();
  const { client } = useIsoscope();
  const navigate = useNavigate();
  const [tab, setTab] = useState<TabId>('results');
  const [message, setMessage] = useState<{ severity: 'success' | 'error'; text: string }>();
  const detector = useLoad(() => client.detector(id), [client, id]);
  const models = useLoad(() => client.models(id), [client, id]);
  const jobs = useLoad(() => client.jobs(id), [client, id]);
  const drift = useLoad(() => client.drift(id), [client, id]);
  const history = useLoad(() => client.history(id), [client, id]);
  const health = useLoad(() => client.detectorHealth(id), [client, id]);
  const [pending, setPending] = useState<PendingStage>();
  const [rollbackEntity, setRollbackEntity] = useState<string>();
  const [promotingAll, setPromotingAll] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const canEdit = hasRole('Editor');
  const isAdmin = hasRole('Admin');

  const running = (jobs.value ?? []).some((j) => j.state === 'queued' || j.state === 'running');
  // While a job runs, follow its progress; when it ends, the versions it made appear.
  useEffect(() => {
    if (!running) {
      return;
    }
    const timer = setInterval(jobs.reload, 1000);
    return () => {
      clearInterval(timer);
      models.reload();
      history.reload();
      health.reload();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [running]);

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setMessage({ severity: 'success', text: done });
      models.reload();
      history.reload();
      jobs.reload();
      health.reload();
    } catch (e) {
      setMessage({ severity: 'error', text: toIsoscopeError(e).message });
    }
  };

  const train = () => act(() => client.train(id), 'Training started').then(() => setTab('training'));

  if (detector.error) {
    return (
      <PluginPage>
        <Alert title={`Detector ${id}`}>{detector.error}</Alert>
      </PluginPage>
    );
  }
  if (!detector.value) {
    return (
      <PluginPage>
        <LoadingPlaceholder text="Loading detector…" />
      </PluginPage>
    );
  }
  const d = detector.value;
  const actions = (
    <Stack gap={1}>
      <WordsHelp
        terms={[
          'entity',
          'score',
          'threshold',
          'stretch',
          'not scored',
          'version',
          'stage',
          'promote',
          'roll back',
          'backfill',
          'drift',
        ]}
      />
      <Button
        icon="play"
        onClick={train}
        disabled={!canEdit || running}
        tooltip={canEdit ? undefined : 'Needs the Editor role'}
      >
        Train
      </Button>
      {canEdit && (
        <LinkButton variant="secondary" icon="pen" href={`${detectorUrl(id)}/edit`}>
          Edit
        </LinkButton>
      )}
      {isAdmin && (
        <Button variant="destructive" icon="trash-alt" onClick={() => setDeleting(true)}>
          Delete
        </Button>
      )}
    </Stack>
  );

  return (
    <PluginPage actions={actions} pageNav={{ text: d.name, subTitle: describeSource(d) }}>
      {message && (
        <Alert
          title={message.severity === 'success' ? 'Done' : 'Failed'}
          severity={message.severity}
          onRemove={() => setMessage(undefined)}
        >
          {message.text}
        </Alert>
      )}
      <NotScored
        models={models.value}
        running={running}
        isAdmin={isAdmin}
        canEdit={canEdit}
        onTrain={train}
        onPromote={(v) => setPending({ version: v, stage: 'production' })}
        onPromoteAll={() => setPromotingAll(true)}
      />
      <HealthSection health={health.value} error={health.error} />
      <TabsBar>
        {TABS.map((t) => (
          <Tab key={t.id} label={t.label} active={tab === t.id} onChangeTab={() => setTab(t.id)} />
        ))}
      </TabsBar>
      <TabContent>
        {tab === 'results' && <ResultsTab client={client} detector={id} />}
        {tab === 'models' && (
          <ModelsTab
            models={models.value ?? []}
            error={models.error}
            isAdmin={isAdmin}
            onStage={(version, stage) => setPending({ version, stage })}
            onRollback={setRollbackEntity}
          />
        )}
        {tab === 'training' && (
          <TrainingTab
            jobs={jobs.value ?? []}
            canEdit={canEdit}
            onCancel={(j) => act(() => client.cancelJob(j.id), `${j.kind} cancelled`)}
            onBackfill={(hours) => {
              const to = Date.now();
              const range = { from: new Date(to - hours * 3600_000).toISOString(), to: new Date(to).toISOString() };
              return act(() => client.backfill(id, range), `Scoring the last ${hours} hours`);
            }}
          />
        )}
        {tab === 'drift' && (
          <DriftTab
            reports={drift.value ?? []}
            canEdit={canEdit}
            intervalSeconds={d.spec.intervalSeconds}
            models={models.value ?? []}
            onRun={() => act(() => client.runDrift(id, 24).then(drift.reload), 'Drift checked on the last 24 hours')}
          />
        )}
        {tab === 'alerting' && <AlertingTab detector={d} />}
        {tab === 'history' && <HistoryTab history={history.value ?? []} models={models.value ?? []} />}
      </TabContent>
      {pending && (
        <StageDialog
          title={`Move ${pending.version.entity} ${versionLabel(pending.version)} to ${pending.stage}`}
          description={
            pending.stage === 'production'
              ? `${versionLabel(pending.version)} will score ${pending.version.entity} from the next interval; the current production version is archived.`
              : `${versionLabel(pending.version)} goes from ${pending.version.stage} to ${pending.stage}.`
          }
          confirm={`Move to ${pending.stage}`}
          onDismiss={() => setPending(undefined)}
          onConfirm={(reason) =>
            act(
              () => client.setStage(id, pending.version.version, pending.stage, reason),
              `${versionLabel(pending.version)} is ${pending.stage}`
            ).then(() => setPending(undefined))
          }
        />
      )}
      {promotingAll && (
        <StageDialog
          title="Promote the newest version of each entity not scored"
          description={`${unscored(models.value ?? [])
            .map((u) => `${u.entity || '(all entities)'} ${versionLabel(u.newest)}`)
            .join(', ')} go to production and score from the next interval.`}
          confirm="Move to production"
          onDismiss={() => setPromotingAll(false)}
          onConfirm={(reason) =>
            act(async () => {
              // One at a time: the service archives each entity's previous production version in turn.
              for (const u of unscored(models.value ?? [])) {
                await client.setStage(id, u.newest.version, 'production', reason);
              }
            }, 'Every entity is scored').then(() => setPromotingAll(false))
          }
        />
      )}
      {rollbackEntity !== undefined && (
        <StageDialog
          title={`Roll back ${rollbackEntity}`}
          description={`Production for ${rollbackEntity} goes back to the version before the current one.`}
          confirm="Roll back"
          onDismiss={() => setRollbackEntity(undefined)}
          onConfirm={(reason) =>
            act(() => client.rollback(id, reason, rollbackEntity), `${rollbackEntity} rolled back`).then(() =>
              setRollbackEntity(undefined)
            )
          }
        />
      )}
      <ConfirmModal
        isOpen={deleting}
        title={`Delete ${d.name}`}
        body="The detector, its model versions and its history are removed. Scores already written to InfluxDB stay."
        confirmText="Delete"
        onDismiss={() => setDeleting(false)}
        onConfirm={() =>
          // Straight to the list once deleted; on a refusal, stay and say why.
          client.deleteDetector(id).then(
            () => navigate(prefixRoute(ROUTES.Detectors)),
            (e) => {
              setDeleting(false);
              setMessage({ severity: 'error', text: toIsoscopeError(e).message });
            }
          )
        }
      />
    </PluginPage>
  );
}

/**
 * Which entities nothing scores, and why: their versions are candidates (training makes candidates)
 * and none is in production. Admins promote the newest of each at once, with one reason, or one by one.
 */
function NotScored(props: {
  models?: ModelVersion[];
  running: boolean;
  isAdmin: boolean;
  canEdit: boolean;
  onTrain: () => void;
  onPromote: (v: ModelVersion) => void;
  onPromoteAll: () => void;
}) {
  if (!props.models) {
    return null;
  }
  if (props.models.length === 0) {
    return (
      <Alert severity="info" title="Nothing is scored yet: there is no model">
        {props.running
          ? 'Training is running; its versions appear under Model versions as candidates.'
          : 'Train learns a model of normal per entity from the training window. '}
        {!props.running && (props.canEdit ? 'Press Train above.' : 'An editor presses Train.')} An admin then promotes
        each entity&apos;s version to production, and from then on it is scored.
      </Alert>
    );
  }
  const missing = unscored(props.models);
  if (missing.length === 0) {
    return null;
  }
  const all = new Set(props.models.map((m) => m.entity)).size;
  const names = missing.map((u) => u.entity || '(all entities)');
  return (
    <Alert
      severity="warning"
      title={`${missing.length} of ${all} ${all === 1 ? 'entity is' : 'entities are'} not scored yet: ${names.join(', ')}`}
    >
      <Stack direction="column" gap={1}>
        <span>
          {missing.length === 1 ? 'It has' : 'They have'} no model version in production: training makes candidates, and
          only a production version scores. Until one is promoted there are no results, anomalies or alerts for{' '}
          {missing.length === 1 ? 'it' : 'them'}.
        </span>
        {props.isAdmin ? (
          <Stack gap={1} wrap="wrap">
            {missing.length > 1 && (
              <Button size="sm" icon="arrow-up" onClick={props.onPromoteAll}>
                Promote the newest version of each ({missing.length})
              </Button>
            )}
            {missing.map((u) => (
              <Button key={u.entity} size="sm" variant="secondary" onClick={() => props.onPromote(u.newest)}>
                Promote {u.entity || '(all entities)'} {versionLabel(u.newest)}
              </Button>
            ))}
          </Stack>
        ) : (
          <span>An admin promotes a version of each under Model versions, with a reason.</span>
        )}
      </Stack>
    </Alert>
  );
}

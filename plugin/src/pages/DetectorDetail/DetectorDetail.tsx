import React, { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Badge,
  Button,
  ConfirmModal,
  LinkButton,
  LoadingPlaceholder,
  RadioButtonGroup,
  Stack,
  Tab,
  TabsBar,
  TabContent,
  Text,
} from '@grafana/ui';
import { toIsoscopeError } from '../../api/client';
import type { DriftReport, Job, ModelVersion, Stage } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { ROUTES, detectorUrl, prefixRoute } from '../../constants';
import { useLoad } from '../../hooks/useLoad';
import { describeSource } from '../Detectors/Detectors';
import { byEntity, fmt, pct, summarize } from './metrics';
import { StageDialog } from './StageDialog';

type TabId = 'models' | 'training' | 'drift' | 'alerting' | 'history';
const TABS: Array<{ id: TabId; label: string }> = [
  { id: 'models', label: 'Model versions' },
  { id: 'training', label: 'Training runs' },
  { id: 'drift', label: 'Drift' },
  { id: 'alerting', label: 'Alert rule' },
  { id: 'history', label: 'Stage history' },
];
const STAGE_COLOURS: Record<Stage, 'green' | 'blue' | 'orange' | 'darkgrey'> = {
  production: 'green',
  staging: 'blue',
  candidate: 'orange',
  archived: 'darkgrey',
};

interface PendingStage {
  version: ModelVersion;
  stage: Stage;
}

/** One detector: its versions side by side, training with progress, drift per feature, alert rule, history. */
export function DetectorDetail() {
  const { id = '' } = useParams();
  const { client } = useIsoscope();
  const navigate = useNavigate();
  const [tab, setTab] = useState<TabId>('models');
  const [message, setMessage] = useState<{ severity: 'success' | 'error'; text: string }>();
  const detector = useLoad(() => client.detector(id), [client, id]);
  const models = useLoad(() => client.models(id), [client, id]);
  const jobs = useLoad(() => client.jobs(id), [client, id]);
  const drift = useLoad(() => client.drift(id), [client, id]);
  const history = useLoad(() => client.history(id), [client, id]);
  const [pending, setPending] = useState<PendingStage>();
  const [rollbackEntity, setRollbackEntity] = useState<string>();
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
      <TabsBar>
        {TABS.map((t) => (
          <Tab key={t.id} label={t.label} active={tab === t.id} onChangeTab={() => setTab(t.id)} />
        ))}
      </TabsBar>
      <TabContent>
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
            onRun={() => act(() => client.runDrift(id, 24).then(drift.reload), 'Drift checked on the last 24 hours')}
          />
        )}
        {tab === 'alerting' && <AlertingTab detector={d} />}
        {tab === 'history' && (
          <table className="filter-table" aria-label="Stage history">
            <thead>
              <tr>
                <th>When</th>
                <th>Version</th>
                <th>From</th>
                <th>To</th>
                <th>By</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {(history.value ?? []).map((h) => (
                <tr key={`${h.at}-${h.version}-${h.to}`}>
                  <td>{new Date(h.at).toLocaleString()}</td>
                  <td>v{h.version}</td>
                  <td>{h.from ?? '–'}</td>
                  <td>{h.to}</td>
                  <td>{h.actor}</td>
                  <td>{h.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </TabContent>
      {pending && (
        <StageDialog
          title={`Move ${pending.version.entity} v${pending.version.version} to ${pending.stage}`}
          description={
            pending.stage === 'production'
              ? `v${pending.version.version} will score ${pending.version.entity} from the next interval; the current production version is archived.`
              : `v${pending.version.version} goes from ${pending.version.stage} to ${pending.stage}.`
          }
          confirm={`Move to ${pending.stage}`}
          onDismiss={() => setPending(undefined)}
          onConfirm={(reason) =>
            act(
              () => client.setStage(id, pending.version.version, pending.stage, reason),
              `v${pending.version.version} is ${pending.stage}`
            ).then(() => setPending(undefined))
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
          act(() => client.deleteDetector(id), 'Deleted').then(() => navigate(prefixRoute(ROUTES.Detectors)))
        }
      />
    </PluginPage>
  );
}

function ModelsTab(props: {
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
            <Text element="h4">{entity || '(no entity)'}</Text>
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
                    <td>{fmt(s.threshold)}</td>
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

const BACKFILL_HOURS = [6, 24, 48, 168].map((h) => ({ value: h, label: h < 48 ? `${h} h` : `${h / 24} d` }));

function TrainingTab(props: {
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
            <td>{new Date(j.startedAt ?? j.createdAt).toLocaleString()}</td>
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

function DriftTab({ reports, canEdit, onRun }: { reports: DriftReport[]; canEdit: boolean; onRun: () => void }) {
  return (
    <Stack direction="column" gap={2}>
      <div>
        <Button variant="secondary" icon="sync" onClick={onRun} disabled={!canEdit}>
          Check drift now
        </Button>
      </div>
      {reports.length === 0 && <Text color="secondary">No drift checks yet.</Text>}
      {reports.map((r) => (
        <section key={`${r.entity}-${r.at}`} aria-label={`Drift of ${r.entity}`}>
          <Stack alignItems="center" gap={1}>
            <Text element="h4">{r.entity || '(no entity)'}</Text>
            <Badge
              color={r.drifted ? 'red' : 'green'}
              text={r.drifted ? `drifted: ${r.driftedFeatures.join(', ')}` : 'no drift'}
            />
            <Text color="secondary">
              v{r.modelVersion}, {new Date(r.from).toLocaleString()} – {new Date(r.to).toLocaleString()}
            </Text>
          </Stack>
          <table className="filter-table">
            <thead>
              <tr>
                <th>Feature</th>
                <th>Votes (of 5)</th>
                <th>KS p-value</th>
                <th>PSI</th>
                <th>Jensen–Shannon</th>
                <th>Wasserstein (scaled)</th>
              </tr>
            </thead>
            <tbody>
              {[...r.features, ...(r.scoreDrift ? [{ ...r.scoreDrift, feature: 'score' }] : [])].map((f) => (
                <tr key={f.feature}>
                  <td>
                    {f.feature} {f.drifted && <Badge color="red" text="drifted" />}
                  </td>
                  <td>{f.votes}</td>
                  <td>{f.ks.pvalue.toExponential(2)}</td>
                  <td>{f.psi.toFixed(3)}</td>
                  <td>{f.jensenShannon.toFixed(3)}</td>
                  <td>{f.wassersteinScaled.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </Stack>
  );
}

function AlertingTab({ detector }: { detector: { spec: import('../../api/types').DetectorSpec } }) {
  const a = detector.spec.alerting;
  const s = detector.spec.schedule;
  return (
    <Stack direction="column" gap={1}>
      <Text element="p">
        An alert fires for a host when at least {a.minAnomalous} of its last {a.window} scored points are anomalous at
        severity {a.minSeverity} or above; after it resolves, the host stays quiet for {a.cooldownMinutes} minutes.
      </Text>
      <Text element="p">
        Scored every {s.scoreEverySeconds} s. Retrained{' '}
        {s.retrainEveryHours ? `every ${s.retrainEveryHours} h` : 'on demand'}
        {s.retrainOnDrift ? ` and when drift is found (checked every ${s.driftCheckEveryHours} h)` : ''}; new versions
        go to{' '}
        {s.promotion === 'manual'
          ? 'staging for an admin to promote'
          : s.promotion === 'always'
            ? 'production'
            : 'production when they are no worse on the recent holdout'}
        .
      </Text>
    </Stack>
  );
}

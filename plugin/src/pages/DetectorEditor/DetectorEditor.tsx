import React, { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import type { SelectableValue } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Button,
  Field,
  FieldSet,
  Input,
  LoadingPlaceholder,
  RadioButtonGroup,
  Select,
  Stack,
  Switch,
  Text,
} from '@grafana/ui';
import { toIsoscopeError } from '../../api/client';
import type { Preview } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { Sparkline } from '../../components/Sparkline/Sparkline';
import { detectorUrl } from '../../constants';
import { useLoad } from '../../hooks/useLoad';
import { NEW_DETECTOR, toForm, toInput, validate, type DetectorForm, type OutOfRange } from './form';

const PROMOTIONS: Array<SelectableValue<DetectorForm['promotion']>> = [
  {
    value: 'auto-if-better',
    label: 'Auto if better',
    description:
      'Production when it finds the incidents judged real with no more false alarms (or, unjudged, flags no more)',
  },
  { value: 'manual', label: 'Manual', description: 'Staging, for an admin to promote' },
  { value: 'always', label: 'Always', description: 'Every retrain goes to production' },
];
const SEVERITIES: Array<SelectableValue<DetectorForm['minSeverity']>> = ['low', 'medium', 'high', 'critical'].map(
  (s) => ({
    value: s as DetectorForm['minSeverity'],
    label: s,
  })
);
const AGGREGATES: Array<SelectableValue<DetectorForm['aggregate']>> = ['mean', 'max', 'last', 'increase'].map((a) => ({
  value: a as DetectorForm['aggregate'],
  label: a,
  description: a === 'increase' ? 'For counters (bytes sent, reads): the increase per interval' : undefined,
}));

const THRESHOLDS: Array<SelectableValue<DetectorForm['threshold']>> = [
  {
    value: 'alert-budget',
    label: 'Alert budget',
    description: 'The lowest threshold at which the alert rule stays silent on the training window',
  },
  { value: 'contamination', label: 'Contamination quantile', description: "The training scores' quantile" },
  { value: 'fixed', label: 'Fixed', description: 'The same score for every retrain' },
];
const OUT_OF_RANGE: Array<SelectableValue<OutOfRange>> = [
  {
    value: 'isolate',
    label: 'Isolate',
    description: 'A value beyond the training window scores higher the further beyond it is',
  },
  {
    value: 'clamp',
    label: 'Clamp',
    description: "scikit-learn's scoring: like the training window's most extreme point",
  },
];

/** Create or edit a detector, with a live preview of the data it will read. */
export function DetectorEditor() {
  const { client } = useIsoscope();
  const { id } = useParams();
  const navigate = useNavigate();
  const existing = useLoad(() => (id ? client.detector(id) : Promise.resolve(undefined)), [client, id]);
  const presets = useLoad(() => client.presets(), [client]);
  const [form, setForm] = useState<DetectorForm>(NEW_DETECTOR);
  const [preview, setPreview] = useState<{ data?: Preview; error?: string; loading: boolean }>({ loading: false });
  const [saveError, setSaveError] = useState<string>();
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    if (existing.value) {
      // The form starts from the saved detector once it has loaded.
      // eslint-disable-next-line react-hooks/set-state-in-effect
      setForm(toForm(existing.value.name, existing.value.spec));
    }
  }, [existing.value]);

  const errors = validate(form);
  const valid = Object.keys(errors).length === 0;
  const set = (patch: Partial<DetectorForm>) => setForm((f) => ({ ...f, ...patch }));

  const runPreview = async () => {
    setPreview({ loading: true });
    try {
      setPreview({
        loading: false,
        data: await client.preview({ spec: toInput({ ...form, name: form.name || 'preview' }).spec }, 60),
      });
    } catch (e) {
      setPreview({ loading: false, error: toIsoscopeError(e).message });
    }
  };

  const save = async () => {
    setTouched(true);
    if (!valid) {
      return;
    }
    try {
      const input = toInput(form, existing.value?.spec);
      const saved = id ? await client.updateDetector(id, input) : await client.createDetector(input);
      navigate(detectorUrl(saved.id));
    } catch (e) {
      setSaveError(toIsoscopeError(e).message);
    }
  };

  if (id && existing.loading && !existing.value) {
    return (
      <PluginPage>
        <LoadingPlaceholder text="Loading detector…" />
      </PluginPage>
    );
  }
  const err = (k: keyof DetectorForm) => (touched ? errors[k] : undefined);
  const presetOptions = (presets.value ?? []).map((p) => ({
    value: p.name,
    label: p.name,
    description: `${p.measurement}: ${p.fields.join(', ')}`,
  }));

  return (
    <PluginPage>
      {!hasRole('Editor') && (
        <Alert title="Read only" severity="info">
          Creating and changing detectors needs the Editor role.
        </Alert>
      )}
      <Stack direction="row" gap={4} wrap="wrap">
        <div style={{ minWidth: 420 }}>
          <FieldSet label={id ? `Edit ${existing.value?.name ?? id}` : 'New detector'}>
            <Field label="Name" invalid={Boolean(err('name'))} error={err('name')} disabled={Boolean(id)}>
              <Input
                id="detector-name"
                value={form.name}
                onChange={(e) => set({ name: e.currentTarget.value })}
                placeholder="cpu per host"
              />
            </Field>
            <Field label="Source">
              <RadioButtonGroup<DetectorForm['kind']>
                options={[
                  { value: 'preset', label: 'Telegraf preset' },
                  { value: 'explicit', label: 'Measurement and fields' },
                ]}
                value={form.kind}
                onChange={(kind) => set({ kind })}
              />
            </Field>
            <Field label="Database" description="Empty: the service's (ISOSCOPE_INFLUX_DB, or the bucket for Flux)">
              <Input
                id="detector-database"
                placeholder="the service's"
                value={form.database}
                onChange={(e) => set({ database: e.currentTarget.value })}
              />
            </Field>
            {form.kind === 'preset' ? (
              <Field label="Telegraf measurement" invalid={Boolean(err('preset'))} error={err('preset')}>
                <Select
                  inputId="detector-preset"
                  options={presetOptions}
                  value={form.preset}
                  isLoading={presets.loading}
                  onChange={(v) => set({ preset: v.value ?? '' })}
                />
              </Field>
            ) : (
              <>
                <Field label="Measurement" invalid={Boolean(err('measurement'))} error={err('measurement')}>
                  <Input
                    id="detector-measurement"
                    value={form.measurement}
                    onChange={(e) => set({ measurement: e.currentTarget.value })}
                  />
                </Field>
                <Field
                  label="Fields"
                  description="Comma-separated"
                  invalid={Boolean(err('fields'))}
                  error={err('fields')}
                >
                  <Input
                    id="detector-fields"
                    value={form.fields}
                    onChange={(e) => set({ fields: e.currentTarget.value })}
                  />
                </Field>
                <Field label="Aggregate per interval">
                  <Select
                    inputId="detector-aggregate"
                    options={AGGREGATES}
                    value={form.aggregate}
                    onChange={(v) => set({ aggregate: v.value ?? 'mean' })}
                  />
                </Field>
              </>
            )}
            <Field label="Entity tag" description="One model per value of this tag (Telegraf: host)">
              <Input
                id="detector-entity-tag"
                value={form.entityTag}
                onChange={(e) => set({ entityTag: e.currentTarget.value })}
              />
            </Field>
            <Field
              label="One model for all entities"
              description="Trained on every entity's rows together: for alike hosts, and new hosts are scored at once"
            >
              <Switch
                id="detector-shared"
                value={form.shared}
                onChange={(e) => set({ shared: e.currentTarget.checked })}
              />
            </Field>
            <Field label="Interval (seconds)" invalid={Boolean(err('intervalSeconds'))} error={err('intervalSeconds')}>
              <Input
                id="detector-interval"
                type="number"
                value={form.intervalSeconds}
                onChange={(e) => set({ intervalSeconds: Number(e.currentTarget.value) })}
              />
            </Field>
            <Field
              label="Training window (hours)"
              invalid={Boolean(err('trainingWindowHours'))}
              error={err('trainingWindowHours')}
            >
              <Input
                id="detector-training-window"
                type="number"
                value={form.trainingWindowHours}
                onChange={(e) => set({ trainingWindowHours: Number(e.currentTarget.value) })}
              />
            </Field>
            <Field
              label="Trees"
              description="Empty: training chooses 100 or 200"
              invalid={Boolean(err('trees'))}
              error={err('trees')}
            >
              <Input
                id="detector-trees"
                type="number"
                placeholder="chosen by training"
                value={form.trees}
                onChange={(e) => set({ trees: e.currentTarget.value })}
              />
            </Field>
            <Field
              label="Contamination"
              description="Share of points expected to be anomalous (0.01 = 1 %). Empty: training chooses among 0.005–0.05"
              invalid={Boolean(err('contamination'))}
              error={err('contamination')}
            >
              <Input
                id="detector-contamination"
                type="number"
                step="0.001"
                placeholder="chosen by training"
                value={form.contamination}
                onChange={(e) => set({ contamination: e.currentTarget.value })}
              />
            </Field>
            <Field label="Threshold">
              <RadioButtonGroup<DetectorForm['threshold']>
                options={THRESHOLDS}
                value={form.threshold}
                onChange={(threshold) => set({ threshold })}
              />
            </Field>
            {form.threshold === 'fixed' && (
              <Field
                label="Fixed threshold"
                description="Points scoring above it are anomalous"
                invalid={Boolean(err('fixedThreshold'))}
                error={err('fixedThreshold')}
              >
                <Input
                  id="detector-fixed-threshold"
                  type="number"
                  step="0.01"
                  value={form.fixedThreshold}
                  onChange={(e) => set({ fixedThreshold: e.currentTarget.value })}
                />
              </Field>
            )}
            <Field label="Values beyond the training window">
              <RadioButtonGroup<OutOfRange>
                options={OUT_OF_RANGE}
                value={form.outOfRange}
                onChange={(outOfRange) => set({ outOfRange })}
              />
            </Field>
            <Field label="Promotion of scheduled retrains">
              <Select
                inputId="detector-promotion"
                options={PROMOTIONS}
                value={form.promotion}
                onChange={(v) => set({ promotion: v.value ?? 'auto-if-better' })}
              />
            </Field>
            <Field label="Alert on points at least this severe">
              <Select
                inputId="detector-min-severity"
                options={SEVERITIES}
                value={form.minSeverity}
                onChange={(v) => set({ minSeverity: v.value ?? 'low' })}
              />
            </Field>
            {saveError && <Alert title="Not saved">{saveError}</Alert>}
            <Stack gap={1}>
              <Button onClick={save} disabled={!hasRole('Editor')}>
                {id ? 'Save' : 'Create detector'}
              </Button>
              <Button
                variant="secondary"
                onClick={runPreview}
                disabled={Boolean(errors.preset || errors.measurement || errors.fields)}
              >
                Preview data
              </Button>
            </Stack>
          </FieldSet>
        </div>
        <section aria-label="Preview" style={{ flex: 1, minWidth: 360 }}>
          <Text element="h4">Preview: the last hour, as the model would read it</Text>
          {preview.loading && <LoadingPlaceholder text="Reading InfluxDB…" />}
          {preview.error && (
            <Alert title="No preview" severity="warning">
              {preview.error}
            </Alert>
          )}
          {preview.data && <PreviewCharts preview={preview.data} />}
          {!preview.data && !preview.loading && !preview.error && (
            <Text color="secondary">Choose a source and press Preview data.</Text>
          )}
        </section>
      </Stack>
    </PluginPage>
  );
}

function PreviewCharts({ preview }: { preview: Preview }) {
  return (
    <Stack direction="column" gap={1}>
      <Text color="secondary">
        {preview.entities.length} entit{preview.entities.length === 1 ? 'y' : 'ies'} in {preview.measurement}
      </Text>
      {preview.entities.slice(0, 4).map((e) => (
        <div key={e.entity}>
          <Text weight="medium">
            {e.entity || '(no entity)'} · {e.rows} rows
          </Text>
          {preview.fields.map((f, i) => (
            <Stack key={f} alignItems="center" gap={1}>
              <span style={{ width: 140, fontFamily: 'monospace' }}>{f}</span>
              <Sparkline time={e.time} values={e.values[i] ?? []} width={300} height={28} label={`${e.entity} ${f}`} />
            </Stack>
          ))}
        </div>
      ))}
    </Stack>
  );
}

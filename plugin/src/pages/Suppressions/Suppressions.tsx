import React, { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { SelectableValue } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Button,
  Checkbox,
  type Column,
  ConfirmModal,
  Field,
  FieldSet,
  Input,
  InteractiveTable,
  LoadingPlaceholder,
  RadioButtonGroup,
  Select,
  Stack,
  Text,
  TextLink,
} from '@grafana/ui';
import { toIsoscopeError } from '../../api/client';
import type { Suppression, SuppressionAdded, SuppressionKind } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { WordsHelp } from '../../components/Words/Words';
import { detectorUrl, incidentsUrl } from '../../constants';
import { featureLabel, formatTime } from '../../format';
import { useLoad } from '../../hooks/useLoad';
import {
  NEW_RULE,
  WINDOW_EXAMPLES,
  defaultSince,
  formInstant,
  parseWindow,
  toRequest,
  validate,
  windowWords,
  type RuleForm,
} from './rules';

const KINDS: Array<SelectableValue<SuppressionKind>> = [
  { value: 'daily', label: 'Every day', description: 'A time window each day, such as nightly backups' },
  { value: 'weekly', label: 'Every week', description: 'From a day and time to another, such as a weekend batch' },
  { value: 'period', label: 'Maintenance period', description: 'Once, between two date-times' },
];

const utc = (t: number) => formatTime(t, 'utc');

/**
 * The suppression rules: windows in which flagged points of a detector, entity or metric are still
 * scored and grouped into incidents but do not page. Editors add a rule (the form checks it before
 * sending, and shows the service's reason when it refuses) and delete one after a confirmation.
 * `?add=1&detector=…&entity=…&metric=…&since=…` (an incident's "Suppress similar…") opens the form
 * filled in, with `since` ready for "apply to incidents recorded since" (unticked).
 */
export function Suppressions() {
  const { client } = useIsoscope();
  const [params, setParams] = useSearchParams();
  const editor = hasRole('Editor');
  // Read with the time it was read: whether a maintenance period is ahead, on or over is judged then.
  const loaded = useLoad(() => client.suppressions().then((list) => ({ list, at: Date.now() })), [client]);
  const rules = { ...loaded, value: loaded.value?.list };
  const readAt = loaded.value?.at ?? 0;
  const detectors = useLoad(() => client.detectors(), [client]);
  const names = useMemo(
    () => Object.fromEntries((detectors.value ?? []).map((d) => [d.id, d.name])),
    [detectors.value]
  );
  const adding = editor && params.get('add') === '1';
  const [deleting, setDeleting] = useState<Suppression>();
  const [message, setMessage] = useState<{ severity: 'success' | 'error'; text: string }>();

  const closeForm = () => {
    const next = new URLSearchParams(params);
    for (const key of ['add', 'detector', 'entity', 'metric', 'since']) {
      next.delete(key);
    }
    setParams(next, { replace: true });
  };

  const columns = useMemo(
    () =>
      [
        {
          id: 'scope',
          header: 'Applies to',
          cell: ({ row }) => <Scope rule={row.original} names={names} />,
        },
        {
          id: 'window',
          header: 'When',
          cell: ({ row }) => <WindowCell rule={row.original} now={readAt} />,
        },
        { id: 'reason', header: 'Reason', cell: ({ row }) => row.original.reason },
        {
          id: 'added',
          header: 'Added',
          cell: ({ row }) => `${row.original.actor}, ${formatTime(row.original.createdAt)}`,
        },
        {
          id: 'actions',
          header: '',
          cell: ({ row }) =>
            editor ? (
              <Button
                size="sm"
                variant="destructive"
                fill="text"
                icon="trash-alt"
                aria-label={`Delete the rule: ${row.original.reason}`}
                onClick={() => setDeleting(row.original)}
              >
                Delete
              </Button>
            ) : null,
        },
      ] satisfies Array<Column<Suppression>>,
    [names, editor, readAt]
  );

  return (
    <PluginPage actions={<WordsHelp terms={['suppression rule', 'incident', 'entity', 'feature']} />}>
      <Stack direction="column" gap={2}>
        <Text color="secondary" element="p">
          Flagged points inside a rule are still scored and grouped into incidents, but they do not page; an incident
          whose flagged points all fall inside rules is marked <em>suppressed</em> on the{' '}
          <TextLink href={incidentsUrl()} inline>
            Incidents
          </TextLink>{' '}
          page. Windows are in UTC. A new rule applies to points scored from then on, and, when you tick it, to
          incidents already recorded since a time you choose. Deleting a rule does not un-suppress the incidents it
          suppressed.
        </Text>
        {!editor && (
          <Alert title="Read only" severity="info">
            Adding and deleting suppression rules needs the Editor role.
          </Alert>
        )}
        {message && <Alert title={message.text} severity={message.severity} onRemove={() => setMessage(undefined)} />}
        {adding ? (
          <RuleEditor
            key={params.toString()}
            initial={{
              ...NEW_RULE,
              detector: params.get('detector') ?? '',
              entity: params.get('entity') ?? '',
              metric: params.get('metric') ?? '',
              since: sinceParam(params.get('since')),
            }}
            detectors={(detectors.value ?? []).map((d) => ({ label: d.name, value: d.id }))}
            onCancel={closeForm}
            onSaved={(rule) => {
              closeForm();
              setMessage({ severity: 'success', text: addedText(rule) });
              loaded.reload();
            }}
          />
        ) : (
          editor && (
            <div>
              <Button icon="plus" onClick={() => setParams(new URLSearchParams({ add: '1' }), { replace: true })}>
                New rule
              </Button>
            </div>
          )
        )}
        {rules.error && <Alert title="Cannot load the suppression rules">{rules.error}</Alert>}
        {rules.loading && !rules.value && <LoadingPlaceholder text="Loading suppression rules…" />}
        {rules.value && rules.value.length === 0 && (
          <Text color="secondary" element="p">
            No rules yet: every flagged point can page.
          </Text>
        )}
        {rules.value && rules.value.length > 0 && (
          <section aria-label="Suppression rules">
            <InteractiveTable getRowId={(r: Suppression) => r.id} data={rules.value} columns={columns} />
          </section>
        )}
      </Stack>
      <ConfirmModal
        isOpen={deleting !== undefined}
        title="Delete the suppression rule"
        body={
          deleting
            ? `"${deleting.reason}" (${windowWords(deleting, utc)}). Flagged points in its window will page again; incidents already marked suppressed stay so.`
            : ''
        }
        confirmText="Delete"
        onDismiss={() => setDeleting(undefined)}
        onConfirm={() => {
          const rule = deleting!;
          setDeleting(undefined);
          return client.deleteSuppression(rule.id).then(
            () => {
              setMessage({ severity: 'success', text: `Rule deleted: ${rule.reason}` });
              loaded.reload();
            },
            (e) => setMessage({ severity: 'error', text: toIsoscopeError(e).message })
          );
        }}
      />
    </PluginPage>
  );
}

/** `?since=` (an incident's start, ISO) as the form's field takes it; empty when absent or unreadable. */
function sinceParam(text: string | null): string {
  const t = text ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? formInstant(t) : '';
}

/** The message once a rule is added, with what applying it to recorded incidents did. */
export function addedText(rule: SuppressionAdded): string {
  const added = `Rule added: ${rule.reason}`;
  if (!rule.applied) {
    return added;
  }
  const since = utc(Date.parse(rule.applied.since));
  const { incidents, suppressed } = rule.applied;
  if (incidents === 0) {
    return `${added}. No incident recorded since ${since} UTC falls wholly inside the rules.`;
  }
  const now = suppressed === 1 ? '1 incident' : `${suppressed} incidents`;
  const also = incidents - suppressed;
  return (
    `${added}. Since ${since} UTC: ${now} now suppressed (firing ones stop alerting)` +
    (also > 0 ? `; ${also} already suppressed now name${also === 1 ? 's' : ''} this rule too.` : '.')
  );
}

/** What a rule applies to, each part named, "every …" where the rule leaves it open. */
function Scope({ rule, names }: { rule: Suppression; names: Record<string, string> }) {
  return (
    <Stack direction="column" gap={0}>
      <span>
        <Text color="secondary">detector </Text>
        {rule.detector ? (
          <TextLink href={detectorUrl(rule.detector)} inline>
            {names[rule.detector] ?? rule.detector}
          </TextLink>
        ) : (
          'every one'
        )}
      </span>
      <span>
        <Text color="secondary">entity </Text>
        {rule.entity ?? 'every one'}
      </span>
      <span>
        <Text color="secondary">metric </Text>
        <span title={rule.metric ? `Feature ${rule.metric}` : undefined}>
          {rule.metric ? featureLabel(rule.metric) : 'any'}
        </span>
      </span>
    </Stack>
  );
}

/** The window, and for a maintenance period whether it is ahead, on now or over. */
function WindowCell({ rule, now }: { rule: Suppression; now: number }) {
  const words = windowWords(rule, utc);
  if (rule.kind !== 'period') {
    return <span>{words}</span>;
  }
  const { start, end } = parseWindow('period', rule.from, rule.to);
  const when = end !== undefined && end <= now ? 'over' : start !== undefined && start <= now ? 'on now' : 'ahead';
  return (
    <span>
      Maintenance {words} <Text color={when === 'on now' ? 'warning' : 'secondary'}>({when})</Text>
    </span>
  );
}

/** The new-rule form: checked as it is typed (shown once sent), the service's refusal shown as it said it. */
function RuleEditor({
  initial,
  detectors,
  onCancel,
  onSaved,
}: {
  initial: RuleForm;
  detectors: Array<SelectableValue<string>>;
  onCancel: () => void;
  onSaved: (rule: SuppressionAdded) => void;
}) {
  const { client } = useIsoscope();
  const [form, setForm] = useState<RuleForm>(initial);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string>();
  const errors = validate(form);
  const err = (k: keyof RuleForm) => (touched ? errors[k] : undefined);
  const set = (patch: Partial<RuleForm>) => setForm((f) => ({ ...f, ...patch }));
  const example = WINDOW_EXAMPLES[form.kind];
  // A period is typed in UTC; echo it in the user's time zone so a maintenance window is not an hour off.
  const typed = form.kind === 'period' ? parseWindow('period', form.from, form.to) : {};
  const yours = (t?: number) => (t === undefined ? undefined : `${formatTime(t)} in your time zone`);

  const save = async () => {
    setTouched(true);
    setRefused(undefined);
    if (Object.keys(errors).length > 0) {
      return;
    }
    setBusy(true);
    try {
      onSaved(await client.createSuppression(toRequest(form)));
    } catch (e) {
      setRefused(toIsoscopeError(e).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      aria-label="New suppression rule"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      style={{ maxWidth: 640 }}
    >
      <FieldSet label="New suppression rule">
        <Field label="Detector" description="Empty: every detector">
          <Select
            inputId="rule-detector"
            isClearable
            placeholder="Every detector"
            options={detectors}
            value={form.detector || null}
            onChange={(v) => set({ detector: v?.value ?? '' })}
          />
        </Field>
        <Field
          label="Entity"
          description="A host, as its tag says; empty: every entity"
          invalid={Boolean(err('entity'))}
          error={err('entity')}
        >
          <Input
            id="rule-entity"
            placeholder="Every entity"
            value={form.entity}
            onChange={(e) => set({ entity: e.currentTarget.value })}
          />
        </Field>
        <Field
          label="Metric"
          description={
            form.metric.trim()
              ? `Flagged points that ${featureLabel(form.metric.trim())} explained most`
              : 'The feature that explained a flagged point most, e.g. usage_iowait; empty: any metric'
          }
          invalid={Boolean(err('metric'))}
          error={err('metric')}
        >
          <Input
            id="rule-metric"
            placeholder="Any metric"
            value={form.metric}
            onChange={(e) => set({ metric: e.currentTarget.value })}
          />
        </Field>
        <Field label="Window">
          <RadioButtonGroup<SuppressionKind>
            options={KINDS}
            value={form.kind}
            // The times of one kind mean nothing to another: start them again.
            onChange={(kind) => set({ kind, from: '', to: '' })}
          />
        </Field>
        <Stack gap={2}>
          <Field label="From (UTC)" description={yours(typed.start)} invalid={Boolean(err('from'))} error={err('from')}>
            <Input
              id="rule-from"
              width={24}
              placeholder={example.from}
              value={form.from}
              onChange={(e) => set({ from: e.currentTarget.value })}
            />
          </Field>
          <Field
            label="To (UTC)"
            description={form.kind === 'period' ? yours(typed.end) : 'May wrap past midnight or the week’s end'}
            invalid={Boolean(err('to'))}
            error={err('to')}
          >
            <Input
              id="rule-to"
              width={24}
              placeholder={example.to}
              value={form.to}
              onChange={(e) => set({ to: e.currentTarget.value })}
            />
          </Field>
        </Stack>
        <Field
          label="Reason"
          description="Shown with the rule; say what the window is for"
          invalid={Boolean(err('reason'))}
          error={err('reason')}
        >
          <Input
            id="rule-reason"
            placeholder="nightly backup on db-1"
            value={form.reason}
            onChange={(e) => set({ reason: e.currentTarget.value })}
          />
        </Field>
        <Field
          label="Recorded incidents"
          description="Off: the rule holds points scored from now on. On: incidents recorded since then whose flagged points all fall inside your rules become suppressed too, and stop alerting. Deleting the rule later does not un-suppress them."
        >
          <Checkbox
            id="rule-apply"
            label="Also apply to incidents recorded since…"
            value={form.apply}
            onChange={(e) => {
              const apply = e.currentTarget.checked;
              set({ apply, since: apply && !form.since ? defaultSince(form, Date.now()) : form.since });
            }}
          />
        </Field>
        {form.apply && (
          <Field label="Since (UTC)" invalid={Boolean(err('since'))} error={err('since')}>
            <Input
              id="rule-since"
              width={24}
              placeholder={WINDOW_EXAMPLES.period.from}
              value={form.since}
              onChange={(e) => set({ since: e.currentTarget.value })}
            />
          </Field>
        )}
        {refused && (
          <Alert title="The rule was not added" severity="error">
            {refused}
          </Alert>
        )}
        <Stack gap={1}>
          <Button type="submit" disabled={busy}>
            Add rule
          </Button>
          <Button type="button" variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        </Stack>
      </FieldSet>
    </form>
  );
}

import React, { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { SelectableValue } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Badge,
  Button,
  type Column,
  InlineField,
  InlineFieldRow,
  Input,
  InteractiveTable,
  LoadingPlaceholder,
  RadioButtonGroup,
  Select,
  Stack,
  Text,
  TextLink,
} from '@grafana/ui';
import type { Feedback, Incident, IncidentFilters, Suppression } from '../../api/types';
import { hasRole, useIsoscope } from '../../components/App/context';
import { FeedbackButtons } from '../../components/Feedback/Feedback';
import { WordsHelp } from '../../components/Words/Words';
import { detectorUrl, incidentExplainUrl, suppressionsUrl } from '../../constants';
import { featureLabel, formatTime } from '../../format';
import { useLoad } from '../../hooks/useLoad';
import { holdsIncident } from '../Suppressions/rules';

type Severity = NonNullable<IncidentFilters['severity']>;
type State = NonNullable<IncidentFilters['state']>;

const RANGES: Array<SelectableValue<number>> = [
  { label: '24 hours', value: 24 },
  { label: '7 days', value: 24 * 7 },
  { label: '30 days', value: 24 * 30 },
];
const STATES: Array<SelectableValue<State | ''>> = [
  { label: 'All', value: '' },
  { label: 'Firing', value: 'firing' },
  { label: 'Resolved', value: 'resolved' },
];
const SEVERITIES: Array<SelectableValue<Severity | ''>> = [
  { label: 'Any severity', value: '' },
  { label: 'Low or worse', value: 'low' },
  { label: 'Medium or worse', value: 'medium' },
  { label: 'High or worse', value: 'high' },
  { label: 'Critical', value: 'critical' },
];
const SEVERITY_COLOUR: Record<string, 'blue' | 'orange' | 'red' | 'purple'> = {
  low: 'blue',
  medium: 'orange',
  high: 'red',
  critical: 'purple',
};

/** How long an incident lasted (or has lasted), in words: `48 min`, `3 h 10 min`, `1 point`. */
export function duration(i: Pick<Incident, 'start' | 'end'>): string {
  const minutes = Math.round((Date.parse(i.end) - Date.parse(i.start)) / 60000);
  if (minutes < 1) {
    return 'under a minute';
  }
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const h = Math.floor(minutes / 60);
  return minutes % 60 ? `${h} h ${minutes % 60} min` : `${h} h`;
}

/** The metrics that explained an incident's flagged points, most often first, in plain words. */
export function topMetricsText(i: Pick<Incident, 'topMetrics' | 'flagged'>, intervalSeconds?: number): string {
  return i.topMetrics
    .slice(0, 3)
    .map((m) => `${featureLabel(m.metric, intervalSeconds)} (${m.count} of ${i.flagged})`)
    .join(', ');
}

/**
 * The rule that kept a suppressed incident from paging: the one the service recorded with it, or,
 * for an incident recorded before the service kept that, the one of `rules` that alone holds it all.
 */
export function suppressingRule(incident: Incident, rules?: Suppression[]): { reason: string } | undefined {
  if (!incident.suppressed) {
    return undefined;
  }
  return incident.suppressedBy ?? rules?.find((r) => holdsIncident(r, incident));
}

/** An incident's state, with "suppressed" when a suppression rule kept it from paging, and that rule's reason. */
export function StateBadge({ incident, rules }: { incident: Incident; rules?: Suppression[] }) {
  const rule = suppressingRule(incident, rules);
  return (
    <Stack direction="column" gap={0.5} alignItems="flex-start">
      <Stack gap={0.5}>
        {incident.state === 'firing' ? (
          <Badge color="red" icon="fire" text="firing" />
        ) : (
          <Badge color="green" icon="check" text="resolved" />
        )}
        {incident.suppressed && (
          <Badge
            color="darkgrey"
            icon="bell-slash"
            text="suppressed"
            tooltip="Every flagged point fell inside a suppression rule: it did not page"
          />
        )}
      </Stack>
      {rule && (
        <TextLink href={suppressionsUrl()} inline={false} variant="bodySmall" color="secondary">
          {/* Several rules can cover one incident between them: name each. */}
          {incident.suppressedByAll && incident.suppressedByAll.length > 1
            ? `by the rules: ${incident.suppressedByAll.map((r) => r.reason).join('; ')}`
            : `by the rule: ${rule.reason}`}
        </TextLink>
      )}
    </Stack>
  );
}

/**
 * The link that opens a new suppression rule for what made this incident: its detector, entity and
 * top metric, and its start as the time "apply to incidents recorded since" offers (so ticking it
 * quietens this incident too). In a table cell it stands on its own line; `inline` in a sentence.
 */
export function SuppressSimilarLink({ incident, inline = false }: { incident: Incident; inline?: boolean }) {
  return (
    <TextLink
      href={suppressionsUrl({
        detector: incident.detector,
        entity: incident.entity,
        metric: incident.topMetrics[0]?.metric,
        since: incident.start,
      })}
      inline={inline}
      variant={inline ? undefined : 'bodySmall'}
      style={{ whiteSpace: 'nowrap' }}
    >
      Suppress similar…
    </TextLink>
  );
}

/**
 * The incidents table, shared with the Overview: state, entity, detector, when and how long,
 * severity, what explained it, the verdict (editors give one here), and a link that explains its peak.
 */
export function IncidentTable({
  incidents,
  detectorNames,
  onFeedback,
  rules,
}: {
  incidents: Incident[];
  detectorNames: Record<string, string>;
  onFeedback?: (id: string, f: Feedback) => void;
  /** The suppression rules, to name the one that kept a suppressed incident quiet. */
  rules?: Suppression[];
}) {
  const editor = hasRole('Editor');
  // Columns stay the same objects across renders (callers pass a stable callback and names): a new
  // cell renderer would remount the cells and drop a note being typed.
  const columns = useMemo(
    () =>
      [
        {
          id: 'state',
          header: 'State',
          cell: ({ row }) => <StateBadge incident={row.original} rules={rules} />,
        },
        { id: 'entity', header: 'Entity', cell: ({ row }) => row.original.entity || '(all)' },
        {
          id: 'detector',
          header: 'Detector',
          cell: ({ row }) => (
            <TextLink href={detectorUrl(row.original.detector)} inline={false}>
              {detectorNames[row.original.detector] ?? row.original.detector}
            </TextLink>
          ),
        },
        { id: 'start', header: 'Started', cell: ({ row }) => formatTime(row.original.start) },
        { id: 'duration', header: 'Lasted', cell: ({ row }) => duration(row.original) },
        {
          id: 'severity',
          header: 'Severity',
          cell: ({ row }) => (
            <Badge color={SEVERITY_COLOUR[row.original.severity] ?? 'blue'} text={row.original.severity} />
          ),
        },
        { id: 'metrics', header: 'Explained by', cell: ({ row }) => topMetricsText(row.original) },
        {
          id: 'verdict',
          header: 'Verdict',
          cell: ({ row }) => (
            <FeedbackButtons
              incident={row.original.id}
              current={row.original.feedback}
              onSaved={(f) => onFeedback?.(row.original.id, f)}
            />
          ),
        },
        {
          id: 'explain',
          header: '',
          cell: ({ row }) => (
            <Stack direction="column" gap={0.5}>
              <TextLink href={incidentExplainUrl(row.original)} inline={false}>
                Explain
              </TextLink>
              {editor && <SuppressSimilarLink incident={row.original} />}
            </Stack>
          ),
        },
      ] satisfies Array<Column<Incident>>,
    [detectorNames, onFeedback, rules, editor]
  );
  return <InteractiveTable getRowId={(i: Incident) => i.id} data={incidents} columns={columns} />;
}

/** Every incident, filtered by detector, entity, severity, state and time; filters live in the URL. */
export function Incidents() {
  const { client } = useIsoscope();
  const [params, setParams] = useSearchParams();
  const detector = params.get('detector') ?? '';
  const entity = params.get('entity') ?? '';
  const state = (params.get('state') ?? '') as State | '';
  const severity = (params.get('severity') ?? '') as Severity | '';
  const hours = Number(params.get('hours') ?? 24 * 7) || 24 * 7;
  const [entityText, setEntityText] = useState(entity);
  // The window ends at the minute, so reloads within a minute ask for the same range.
  const nowToMinute = () => Math.ceil(Date.now() / 60000) * 60000;
  const [to, setTo] = useState(nowToMinute);
  const set = (key: string, value: string | number) => {
    if ((params.get(key) ?? '') === String(value)) {
      return;
    }
    const next = new URLSearchParams(params);
    if (value === '' || value === undefined) {
      next.delete(key);
    } else {
      next.set(key, String(value));
    }
    setParams(next, { replace: true });
  };
  const detectors = useLoad(() => client.detectors(), [client]);
  const names = useMemo(
    () => Object.fromEntries((detectors.value ?? []).map((d) => [d.id, d.name])),
    [detectors.value]
  );
  const incidents = useLoad(
    () =>
      client.incidents({
        ...(detector ? { detector } : {}),
        ...(entity ? { entity } : {}),
        ...(state ? { state } : {}),
        ...(severity ? { severity } : {}),
        from: new Date(to - hours * 3600 * 1000).toISOString(),
        to: new Date(to).toISOString(),
      }),
    [client, detector, entity, state, severity, hours, to]
  );
  const [given, setGiven] = useState<Record<string, Feedback>>({});
  const onFeedback = useCallback((id: string, f: Feedback) => setGiven((g) => ({ ...g, [id]: f })), []);
  const shown = (incidents.value ?? []).map((i) => (given[i.id] ? { ...i, feedback: given[i.id] } : i));
  const firing = shown.filter((i) => i.state === 'firing').length;
  // The rules are read only to name the one behind a suppressed incident recorded before the service
  // named it; without them the badge still says suppressed.
  const anyUnnamed = shown.some((i) => i.suppressed && !i.suppressedBy);
  const rules = useLoad(
    () => (anyUnnamed ? client.suppressions().catch(() => undefined) : Promise.resolve(undefined)),
    [client, anyUnnamed]
  );
  return (
    <PluginPage
      actions={<WordsHelp terms={['incident', 'verdict', 'severity', 'entity', 'stretch', 'suppression rule']} />}
    >
      <InlineFieldRow>
        <InlineField label="Detector" labelWidth={10}>
          <Select
            inputId="incidents-detector"
            width={24}
            isClearable
            placeholder="All detectors"
            options={(detectors.value ?? []).map((d) => ({ label: d.name, value: d.id }))}
            value={detector || null}
            onChange={(v) => set('detector', v?.value ?? '')}
          />
        </InlineField>
        <InlineField label="Entity" labelWidth={8}>
          <Input
            id="incidents-entity"
            width={18}
            placeholder="All entities"
            value={entityText}
            onChange={(e) => setEntityText(e.currentTarget.value)}
            onBlur={() => set('entity', entityText.trim())}
            onKeyDown={(e) => e.key === 'Enter' && set('entity', entityText.trim())}
          />
        </InlineField>
        <InlineField label="Severity" labelWidth={10}>
          <Select
            inputId="incidents-severity"
            width={20}
            options={SEVERITIES}
            value={severity}
            onChange={(v) => set('severity', v.value ?? '')}
          />
        </InlineField>
        <InlineField label="State">
          <RadioButtonGroup options={STATES} value={state} onChange={(v) => set('state', v)} />
        </InlineField>
        <InlineField label="Last">
          <RadioButtonGroup options={RANGES} value={hours} onChange={(v) => set('hours', v)} />
        </InlineField>
        <Button variant="secondary" icon="sync" onClick={() => setTo(nowToMinute())} tooltip="Read incidents up to now">
          Refresh
        </Button>
      </InlineFieldRow>
      {(incidents.error || detectors.error) && (
        <Alert title="Cannot load incidents">{incidents.error ?? detectors.error}</Alert>
      )}
      {incidents.loading && !incidents.value && <LoadingPlaceholder text="Loading incidents…" />}
      {incidents.value && (
        <Stack direction="column" gap={2}>
          <Text color="secondary" element="p">
            {shown.length} incident{shown.length === 1 ? '' : 's'} up to {formatTime(to)}, {firing} firing. An incident
            is one entity&apos;s flagged points, fewer than 10 intervals apart; it resolves after 10 quiet intervals.
          </Text>
          {shown.length > 0 && (
            <IncidentTable incidents={shown} detectorNames={names} onFeedback={onFeedback} rules={rules.value} />
          )}
        </Stack>
      )}
    </PluginPage>
  );
}

import React, { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import type { SelectableValue } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Button,
  InlineField,
  InlineFieldRow,
  LoadingPlaceholder,
  RadioButtonGroup,
  Select,
  Text,
} from '@grafana/ui';
import type { IsoscopeClient } from '../../api/client';
import type { Frame } from '../../api/types';
import { useIsoscope } from '../../components/App/context';
import { Swimlane, type SwimlaneRow } from '../../components/Swimlane/Swimlane';
import { WordsHelp } from '../../components/Words/Words';
import { explainUrl } from '../../constants';
import { formatTime } from '../../format';
import { useLoad } from '../../hooks/useLoad';

const RANGES: Array<SelectableValue<number>> = [
  { label: '6 hours', value: 6 },
  { label: '24 hours', value: 24 },
  { label: '7 days', value: 24 * 7 },
];

/** Score frames (one per entity) as swimlane rows. */
export function toRows(frames: Frame[]): SwimlaneRow[] {
  return frames
    .map((f) => {
      const get = (name: string) => f.fields.find((x) => x.name === name);
      const score = get('score');
      return {
        entity: score?.labels?.entity ?? '',
        time: (get('time')?.values ?? []).map(Number),
        score: (score?.values ?? []).map((v) => (typeof v === 'number' ? v : null)),
        anomaly: (get('anomaly')?.values ?? []).map(Boolean),
      };
    })
    .filter((r) => r.time.length > 0)
    .sort((a, b) => a.entity.localeCompare(b.entity));
}

async function loadScores(client: IsoscopeClient, detector: string, from: number, to: number): Promise<SwimlaneRow[]> {
  const response = await client.query({ from: new Date(from).toISOString(), to: new Date(to).toISOString() }, [
    { refId: 'A', detector, entity: '', return: 'score' },
  ]);
  return toRows(response.frames);
}

/**
 * Entity × time: where and when a detector found anomalies, with a time axis and a legend; a click on
 * an anomalous cell explains its most representative moment.
 */
export function Explorer() {
  const { client } = useIsoscope();
  const navigate = useNavigate();
  const detectors = useLoad(() => client.detectors(), [client]);
  const [chosen, setChosen] = useState<string>();
  const [hours, setHours] = useState(24);
  const detector = chosen ?? detectors.value?.[0]?.id;
  // The window ends at the minute, so reloads within a minute ask for the same range.
  const nowToMinute = () => Math.ceil(Date.now() / 60000) * 60000;
  const [to, setTo] = useState(nowToMinute);
  const from = to - hours * 3600 * 1000;
  const rows = useLoad(
    () => (detector ? loadScores(client, detector, from, to) : Promise.resolve([])),
    [client, detector, from, to]
  );

  return (
    <PluginPage>
      <InlineFieldRow>
        <InlineField label="Detector" labelWidth={12}>
          <Select
            inputId="explorer-detector"
            width={30}
            options={(detectors.value ?? []).map((d) => ({ label: d.name, value: d.id }))}
            value={detector}
            onChange={(v) => setChosen(v.value)}
          />
        </InlineField>
        <InlineField label="Last" labelWidth={8}>
          <RadioButtonGroup options={RANGES} value={hours} onChange={setHours} />
        </InlineField>
        <Button
          variant="secondary"
          icon="sync"
          onClick={() => setTo(nowToMinute())}
          tooltip="Read the scores again, up to now"
        >
          Refresh
        </Button>
        <WordsHelp terms={['score', 'threshold', 'anomalous', 'stretch', 'entity', 'not scored']} />
      </InlineFieldRow>
      <Text color="secondary" element="p">
        Up to {formatTime(to)}. Each row is an entity, each cell a stretch of time coloured by its highest score.
      </Text>
      {(detectors.error || rows.error) && <Alert title="Cannot load scores">{detectors.error ?? rows.error}</Alert>}
      {rows.loading && !rows.value && <LoadingPlaceholder text="Loading scores…" />}
      {rows.value && rows.value.length === 0 && (
        <Text color="secondary">No scores in this range: train the detector and let it score, or backfill.</Text>
      )}
      {rows.value && rows.value.length > 0 && detector && (
        <Swimlane
          rows={rows.value}
          from={from}
          to={to}
          buckets={hours <= 6 ? 36 : 48}
          onSelect={(c) => navigate(explainUrl(detector, c.entity, c.explainTime))}
        />
      )}
    </PluginPage>
  );
}

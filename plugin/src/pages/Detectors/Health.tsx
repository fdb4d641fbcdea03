import React from 'react';
import { Badge, Stack, Text, type BadgeColor } from '@grafana/ui';
import type { DetectorHealth } from '../../api/types';
import { useIsoscope } from '../../components/App/context';
import { useLoad } from '../../hooks/useLoad';

type State = DetectorHealth['state'];

const COLOUR: Record<State, BadgeColor> = {
  ok: 'green',
  lagging: 'orange',
  stalled: 'red',
  failing: 'red',
  'not scored': 'blue',
};

const LABEL: Record<State, string> = {
  ok: 'scoring',
  lagging: 'lagging',
  stalled: 'stalled',
  failing: 'failing',
  'not scored': 'not scored',
};

/** A lag in words: "45 s", "12 min", "3.5 h". */
export function lagWords(seconds: number): string {
  if (seconds < 120) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 7200) {
    return `${Math.round(seconds / 60)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The state as a coloured badge whose tooltip says why. */
export function HealthBadge({ state, reason }: { state: State; reason: string }) {
  return <Badge color={COLOUR[state]} text={LABEL[state]} tooltip={reason} />;
}

/** One detector's health for the list: the badge and how far behind, loaded on its own. */
export function HealthCell({ id }: { id: string }) {
  const { client } = useIsoscope();
  const health = useLoad(() => client.detectorHealth(id), [client, id]);
  if (health.error) {
    return (
      <Text color="secondary" italic>
        unknown ({health.error})
      </Text>
    );
  }
  const h = health.value;
  if (!h) {
    return <Text color="secondary">…</Text>;
  }
  return (
    <Stack gap={1} alignItems="center">
      <HealthBadge state={h.state} reason={h.reason} />
      {h.lagSeconds !== undefined && <Text color="secondary">{lagWords(h.lagSeconds)} behind</Text>}
      {h.lastTraining?.state === 'failed' && (
        <Badge color="red" text="training failed" tooltip={h.lastTraining.error} />
      )}
      {h.drift.state === 'drifted' && (
        <Badge color="purple" text="drifted" tooltip={`Drifted: ${h.drift.driftedEntities.join(', ')}`} />
      )}
    </Stack>
  );
}

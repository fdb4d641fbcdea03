import React, { useState } from 'react';
import { Alert, Badge, Button, Input, Stack, Text } from '@grafana/ui';
import type { Feedback, Verdict } from '../../api/types';
import { formatTime } from '../../format';
import { hasRole, useIsoscope } from '../App/context';

export const VERDICT_WORDS: Record<Verdict, string> = {
  real: 'Real',
  expected: 'Expected',
  not_anomaly: 'Not an anomaly',
};

const VERDICT_COLOUR: Record<Verdict, 'red' | 'blue' | 'green'> = {
  real: 'red',
  expected: 'blue',
  not_anomaly: 'green',
};

const VERDICT_HELP: Record<Verdict, string> = {
  real: 'A problem worth the page',
  expected: 'Real, but planned or known: a deploy, a load test, a batch job',
  not_anomaly: 'Normal behaviour the detector flagged',
};

/** An incident's current verdict as a badge, who gave it and when in the tooltip. */
export function VerdictBadge({ feedback }: { feedback?: Feedback }) {
  if (!feedback) {
    return <Text color="secondary">no verdict</Text>;
  }
  const tip = `${VERDICT_HELP[feedback.verdict]}. ${feedback.actor}, ${formatTime(feedback.at)}${feedback.note ? `: ${feedback.note}` : ''}`;
  return <Badge color={VERDICT_COLOUR[feedback.verdict]} text={VERDICT_WORDS[feedback.verdict]} tooltip={tip} />;
}

/**
 * Marks an incident real, expected or not an anomaly, with an optional note; editors only (the
 * data source route and the service refuse viewers too). Tells `onSaved` the verdict recorded.
 */
export function FeedbackButtons({
  incident,
  current,
  onSaved,
}: {
  incident: string;
  current?: Feedback;
  onSaved: (f: Feedback) => void;
}) {
  const { client } = useIsoscope();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  if (!hasRole('Editor')) {
    return <VerdictBadge feedback={current} />;
  }
  const give = async (verdict: Verdict) => {
    setBusy(true);
    setError(undefined);
    try {
      onSaved(await client.feedback(incident, verdict, note.trim()));
      setNote('');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack direction="column" gap={1}>
      <Stack gap={1} alignItems="center" wrap="wrap">
        <VerdictBadge feedback={current} />
        <Input
          aria-label="Note"
          placeholder="Note (optional)"
          width={24}
          value={note}
          onChange={(e) => setNote(e.currentTarget.value)}
        />
        {(Object.keys(VERDICT_WORDS) as Verdict[]).map((v) => (
          <Button
            key={v}
            size="sm"
            variant={current?.verdict === v ? 'primary' : 'secondary'}
            disabled={busy}
            tooltip={VERDICT_HELP[v]}
            onClick={() => give(v)}
          >
            {VERDICT_WORDS[v]}
          </Button>
        ))}
      </Stack>
      {error && (
        <Alert title="The verdict was not saved" severity="error">
          {error}
        </Alert>
      )}
    </Stack>
  );
}

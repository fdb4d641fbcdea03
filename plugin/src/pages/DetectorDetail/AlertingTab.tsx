import React from 'react';
import { Stack, Text } from '@grafana/ui';
import type { DetectorSpec } from '../../api/types';

/** The alert rule and the schedule, in words. */
export function AlertingTab({ detector }: { detector: { spec: DetectorSpec } }) {
  const a = detector.spec.alerting;
  const s = detector.spec.schedule;
  return (
    <Stack direction="column" gap={1}>
      <Text element="p">
        An alert fires for a host when at least {a.minAnomalous} of its last {a.window} scored points are anomalous at
        severity {a.minSeverity} or above; after it resolves, the host stays quiet for {a.cooldownMinutes} minutes.{' '}
        {a.receivers === undefined
          ? 'Alerts go to every receiver the service has.'
          : a.receivers.length === 0
            ? 'Alerts go to no receiver: results and Grafana only.'
            : `Alerts go to ${a.receivers.join(' and ')}.`}
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

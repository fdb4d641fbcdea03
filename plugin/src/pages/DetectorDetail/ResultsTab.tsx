import React, { useEffect, useMemo, useRef, useState } from 'react';
import { LoadingState, dateTime, getTimeZone, toDataFrame, type PanelProps, type SelectableValue } from '@grafana/data';
import { Alert, Button, LoadingPlaceholder, RadioButtonGroup, Stack, Text } from '@grafana/ui';
import type { IsoscopeClient } from '../../api/client';
import { formatTime } from '../../format';
import { useLoad } from '../../hooks/useLoad';
import { AnomalyTimeline } from '../../panel/AnomalyTimeline';
import { toTimelines } from '../../panel/transforms';
import { DEFAULT_OPTIONS, type TimelineOptions } from '../../panel/types';

const RANGES: Array<SelectableValue<number>> = [
  { label: '6 hours', value: 6 },
  { label: '24 hours', value: 24 },
  { label: '7 days', value: 24 * 7 },
];
/** Height of one entity's timeline: the metric chart, the score strip, the legend and the chips. */
const ROW = 230;

/** The width of an element, following it as it resizes (1000 px until measured, as in jsdom). */
function useWidth(): [React.RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1000);
  useEffect(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    const measure = () => el.clientWidth > 0 && setWidth(el.clientWidth);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/**
 * What the detector found: per entity, most anomalous first, the anomaly timeline panel (metrics
 * with anomalous stretches shaded, the score against the threshold); a click explains a stretch.
 */
export function ResultsTab({ client, detector }: { client: IsoscopeClient; detector: string }) {
  const [hours, setHours] = useState(24);
  const nowToMinute = () => Math.ceil(Date.now() / 60000) * 60000;
  const [to, setTo] = useState(nowToMinute);
  const from = to - hours * 3600_000;
  const [ref, width] = useWidth();
  const frames = useLoad(
    () =>
      client
        .query(
          { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
          (['features', 'expected', 'score', 'contributions'] as const).map((r, i) => ({
            refId: String.fromCharCode(65 + i),
            detector,
            entity: '',
            return: r,
          }))
        )
        .then((r) => r.frames.map((f) => toDataFrame(f))),
    [client, detector, from, to]
  );
  const timeRange = useMemo(
    () => ({ from: dateTime(from), to: dateTime(to), raw: { from: dateTime(from), to: dateTime(to) } }),
    [from, to]
  );
  const series = useMemo(() => frames.value ?? [], [frames.value]);
  const timelines = useMemo(() => toTimelines(series), [series]);
  const scored = timelines.filter((t) => t.score).length;
  const entities = Math.max(1, timelines.length);
  return (
    <Stack direction="column" gap={1}>
      <Stack alignItems="center" gap={1}>
        <Text>Last</Text>
        <RadioButtonGroup options={RANGES} value={hours} onChange={setHours} size="sm" />
        <Button size="sm" variant="secondary" icon="sync" onClick={() => setTo(nowToMinute())}>
          Refresh
        </Button>
        <Text color="secondary">
          {formatTime(from)} – {formatTime(to)}
        </Text>
      </Stack>
      {frames.error && <Alert title="Cannot load results">{frames.error}</Alert>}
      {frames.loading && !frames.value && <LoadingPlaceholder text="Loading results…" />}
      <div ref={ref} aria-label="Results">
        {frames.value && scored === 0 && (
          <Text color="secondary" element="p">
            No scores in this range. Results appear once an entity has a model in production (see above) and the service
            has scored it; Backfill under Training runs scores the past.
          </Text>
        )}
        {frames.value && scored > 0 && (
          <AnomalyTimeline
            {...({
              id: 0,
              data: { series, state: LoadingState.Done, timeRange },
              timeRange,
              timeZone: getTimeZone(),
              options: { ...DEFAULT_OPTIONS, maxEntities: entities },
              fieldConfig: { defaults: {}, overrides: [] },
              width,
              height: ROW * entities,
              title: 'Results',
            } as unknown as PanelProps<TimelineOptions>)}
          />
        )}
      </div>
    </Stack>
  );
}

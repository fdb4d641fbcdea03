import type { IncidentRecord } from '../../io/registry/index.js';
import { incidentAnnotation, incidentLine, topMetricsText } from './incident-points.js';

const T = Date.UTC(2024, 0, 3, 21);
const incident = (patch: Partial<IncidentRecord> = {}): IncidentRecord => ({
  id: 'i-1',
  detectorId: 'cpu',
  entity: 'web 1',
  state: 'firing',
  startAt: T,
  endAt: T + 600_000,
  peakAt: T + 300_000,
  peakScore: 0.75,
  severity: 'high',
  flagged: 3,
  spanRows: 3,
  topMetrics: { usage_idle: 1, usage_user: 2 },
  quietRows: 0,
  recent: [],
  suppressed: false,
  createdAt: T,
  updatedAt: T,
  ...patch,
});

describe('incident points and annotations', () => {
  it('keys the point by detector, entity and start; everything that changes is a field', () => {
    const line = incidentLine(incident());
    expect(line.startsWith('isoscope_incidents,detector=cpu,entity=web\\ 1 ')).toBe(true);
    expect(line.endsWith(` ${T}`)).toBe(true);
    expect(line).toContain('state="firing"');
    expect(line).toContain('severity="high"');
    expect(line).toContain(`end_ms=${T + 600_000}.0`);
    expect(line).toContain('top_metrics="usage_user ×2, usage_idle ×1"');
    // A changed incident is the same series and time: InfluxDB replaces the point.
    const changed = incidentLine(incident({ state: 'resolved', severity: 'critical', endAt: T + 900_000 }));
    expect(changed.split(' ')[0]).toBe(line.split(' ')[0]);
    expect(changed.split(' ').at(-1)).toBe(line.split(' ').at(-1));
    expect(changed).not.toBe(line);
  });

  it('names the three most frequent metrics, ties by name', () => {
    expect(topMetricsText({ b: 2, a: 2, c: 5, d: 1 })).toBe('c ×5, a ×2, b ×2');
    expect(topMetricsText({})).toBe('');
  });

  it('is a region to now while firing, to its end once resolved', () => {
    const now = T + 3_600_000;
    expect(incidentAnnotation(incident(), now)).toEqual({
      time: T,
      timeEnd: now,
      title: 'cpu: high incident on web 1',
      text: 'firing; peak score 0.750 at 2024-01-03T21:05:00.000Z; 3 flagged of 3 rows; top metrics usage_user ×2, usage_idle ×1',
      tags: ['isoscope', 'incident', 'cpu', 'web 1', 'high', 'firing'],
    });
    const resolved = incidentAnnotation(
      incident({ state: 'resolved', suppressed: true, topMetrics: {} }),
      now,
    );
    expect(resolved.timeEnd).toBe(T + 600_000);
    expect(resolved.text).toBe(
      'resolved (suppressed); peak score 0.750 at 2024-01-03T21:05:00.000Z; 3 flagged of 3 rows',
    );
    // The rule the service recorded, when it did.
    const named = incidentAnnotation(
      incident({
        state: 'resolved',
        suppressed: true,
        suppressedBy: { ruleId: 'r1', reason: 'nightly backup' },
        topMetrics: {},
      }),
      now,
    );
    expect(named.text).toBe(
      'resolved (suppressed by the rule: nightly backup); peak score 0.750 at 2024-01-03T21:05:00.000Z; 3 flagged of 3 rows',
    );
    // Several rules that covered it between them: each named.
    const both = incidentAnnotation(
      incident({
        state: 'resolved',
        suppressed: true,
        suppressedBy: { ruleId: 'r1', reason: 'nightly backup' },
        suppressedByAll: [
          { ruleId: 'r1', reason: 'nightly backup' },
          { ruleId: 'r2', reason: 'deploy window' },
        ],
        topMetrics: {},
      }),
      now,
    );
    expect(both.text).toBe(
      'resolved (suppressed by the rules: nightly backup; deploy window); peak score 0.750 at 2024-01-03T21:05:00.000Z; 3 flagged of 3 rows',
    );
  });
});

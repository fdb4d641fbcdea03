import { baseField, detectHost } from './detect.js';
import { FIELDS, generateWorkload } from './workload.js';

describe('demo workload', () => {
  const w = generateWorkload();

  it('is reproducible from its seed and keeps incidents out of the training days', () => {
    const again = generateWorkload();
    expect(again.incidents).toEqual(w.incidents);
    expect(Array.from(again.hosts[0]!.values[0]!.subarray(0, 100))).toEqual(
      Array.from(w.hosts[0]!.values[0]!.subarray(0, 100)),
    );
    expect(w.incidents.length).toBeGreaterThanOrEqual(w.hosts.length);
    for (const i of w.incidents) {
      expect(i.start).toBeGreaterThanOrEqual(w.trainMinutes);
      for (const f of i.fields) expect(FIELDS).toContain(f);
    }
  });

  it('finds most incidents, names a metric the incident moved, and stays quiet otherwise', () => {
    const detections = w.hosts.map((h) => detectHost(w, h));
    let found = 0;
    let named = 0;
    for (const incident of w.incidents) {
      const alert = detections
        .find((d) => d.host === incident.host)!
        .alerts.find((a) => a.start <= incident.end && a.end >= incident.start);
      if (!alert) continue;
      found++;
      if (incident.fields.includes(baseField(alert.top[0]!.feature))) named++;
    }
    const falseAlarms = detections.flatMap((d) =>
      d.alerts.filter(
        (a) => !w.incidents.some((i) => i.host === d.host && i.start <= a.end && i.end >= a.start),
      ),
    );
    expect(found / w.incidents.length).toBeGreaterThanOrEqual(0.75);
    expect(named).toBe(found);
    expect(falseAlarms.length / (w.hosts.length * 2)).toBeLessThanOrEqual(0.5);
  });
});

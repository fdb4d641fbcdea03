import type { FastifyInstance } from 'fastify';
import { toLine } from '../../backend/src/io/influx/index.js';
import { as } from './service.js';

const HOUR = 3_600_000;
/** Telegraf's cpu every five minutes. */
export const CPU_FLEET_STEP = 300_000;

/**
 * Telegraf cpu lines for web-1 and web-2 over the 72 hours before `now`: a daily cycle and a slow
 * wobble per host, and web-1 pinned (user 97 %, idle 0) from `incident.from` to `incident.to`.
 */
export function cpuFleetLines(now: number, incident: { from: number; to: number }): string[] {
  const lines: string[] = [];
  for (const [h, host] of ['web-1', 'web-2'].entries()) {
    for (let t = now - 72 * HOUR; t < now; t += CPU_FLEET_STEP) {
      const daily = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
      const wobble = Math.sin(t / 3_333_333 + h) + Math.cos(t / 1_234_567);
      const pinned = host === 'web-1' && t >= incident.from && t < incident.to;
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host, cpu: 'cpu-total' },
          fields: {
            usage_user: pinned ? 97 : 30 + 10 * daily + wobble,
            usage_system: pinned ? 2 : 5 + daily + wobble / 5,
            usage_iowait: 1 + wobble / 10,
            usage_idle: pinned ? 0 : 64 - 11 * daily - wobble,
          },
          timeMs: t,
        }),
      );
    }
  }
  return lines;
}

/**
 * Creates the detector `cpu` (cpu preset, five-minute interval, 48 hours of training, 100 trees)
 * and trains it up to `to`, promoting its models: every entity then scores in production.
 */
export async function trainedCpuDetector(app: FastifyInstance, to: number): Promise<void> {
  await app.inject({
    method: 'POST',
    url: '/api/v1/detectors',
    headers: as('editor'),
    payload: {
      name: 'cpu',
      spec: {
        source: { preset: 'cpu' },
        intervalSeconds: 300,
        trainingWindowHours: 48,
        model: { trees: 100, contamination: 0.01 },
      },
    },
  });
  const train = await app.inject({
    method: 'POST',
    url: '/api/v1/detectors/cpu/train',
    headers: as('editor'),
    payload: { to: new Date(to).toISOString(), promote: true },
  });
  await app.jobs.finished(train.json().id);
}

/**
 * Telegraf cpu lines for web-1 and web-2, one a minute from `from` to `to`: a daily cycle and a
 * slow jitter per host, nothing anomalous (the fleet the worker-thread and fault tests train on).
 */
export function cpuCycleLines(from: number, to: number): string[] {
  const lines: string[] = [];
  for (const [h, host] of ['web-1', 'web-2'].entries())
    for (let t = from; t < to; t += 60_000) {
      const daily = Math.sin((2 * Math.PI * (t % (24 * HOUR))) / (24 * HOUR));
      const jitter = Math.sin(t / 7_777_777 + h) * 2;
      lines.push(
        toLine({
          measurement: 'cpu',
          tags: { host, cpu: 'cpu-total' },
          fields: {
            usage_user: 30 + 15 * daily + jitter,
            usage_system: 5 + daily,
            usage_idle: 65 - 16 * daily,
          },
          timeMs: t,
        }),
      );
    }
  return lines;
}

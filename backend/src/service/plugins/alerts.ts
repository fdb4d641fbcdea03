import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import fp from 'fastify-plugin';
import {
  AlertmanagerReceiver,
  DeliveryQueue,
  WebhookReceiver,
  type AlertEvent,
  type AlertReceiver,
  type Outbox,
} from '../../io/alerts/index.js';
import { endAlert, evaluateAlertRule, type AlertState } from '../alerting.js';
import type { ScoredRow } from '../application/runtime.js';
import type { DetectorSpec } from '../domain/spec.js';

export interface Alerting {
  queue: DeliveryQueue;
  /** Runs a detector's alert rule over newly scored rows and queues what fires or resolves. */
  process(detectorId: string, spec: DetectorSpec, rows: ScoredRow[]): Promise<AlertEvent[]>;
  /** Resolves an entity's open alert now (its points were suppressed afterwards) and queues that. */
  resolve(detectorId: string, spec: DetectorSpec, entity: string): Promise<AlertEvent[]>;
}

declare module 'fastify' {
  interface FastifyInstance {
    alerts: Alerting;
  }
}

/**
 * Alerting as `app.alerts`: receivers from the config (Alertmanager's v2 API, a signed webhook),
 * a delivery queue that retries while they are down, and the per-entity rule state in the
 * registry so a restart neither re-pages nor forgets an open alert.
 */
export default fp(
  async (app) => {
    const receivers: AlertReceiver[] = [];
    // The drill-down links open Grafana where the feedback poller reads it (ISOSCOPE_GRAFANA_URL).
    if (app.config.alertmanagerUrl)
      receivers.push(new AlertmanagerReceiver(app.config.alertmanagerUrl, app.config.grafanaUrl));
    if (app.config.webhookUrl)
      receivers.push(
        new WebhookReceiver(app.config.webhookUrl, app.config.webhookSecret ?? '', app.config.grafanaUrl),
      );
    // Replicas sharing a registry take turns to deliver, by a lease in the registry (see DeliveryQueue).
    const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    const outbox: Outbox = {
      add: (receiver, events) =>
        app.registry.addToOutbox(
          receiver,
          events.map((e) => JSON.stringify(e)),
          app.now(),
        ),
      list: async (receiver) =>
        (await app.registry.listOutbox(receiver)).map((r) => ({
          id: r.id,
          event: JSON.parse(r.event) as AlertEvent,
        })),
      remove: (ids) => app.registry.removeFromOutbox(ids),
      lease: (receiver, ttlMs) => {
        const now = app.now();
        return app.registry.outbox.lease(receiver, owner, now + ttlMs, now);
      },
      release: (receiver) => app.registry.outbox.release(receiver, owner),
    };
    const queue = new DeliveryQueue(
      receivers,
      (receiver, outcome, error) => {
        app.telemetry.alertDeliveries.inc({ receiver, outcome });
        if (error)
          app.log.warn({ receiver, outcome, err: error.message }, 'alert delivery did not go through');
      },
      outbox,
    );
    // Alerts a previous process could not deliver go out first. Then every minute: what a replica
    // that died left in the shared outbox waits for no new alert to be picked up.
    let sweep: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      queue.resume();
      if (queue.hasReceivers) sweep = setInterval(() => queue.resume(), 60_000).unref();
    });
    const describe = (detectorId: string, entity: string) => ({
      detector: detectorId,
      entity,
      link: (time: number) =>
        `/a/isoscope-anomaly-app/explain?detector=${encodeURIComponent(detectorId)}&entity=${encodeURIComponent(entity)}&time=${time}`,
    });
    app.decorate('alerts', {
      queue,
      async resolve(detectorId, spec, entity) {
        const key = `alert:${entity}`;
        const stored = await app.registry.getStreamState(detectorId, key);
        if (!stored) return [];
        const { state, events } = endAlert(
          JSON.parse(stored) as AlertState,
          app.now(),
          describe(detectorId, entity),
        );
        if (events.length === 0) return [];
        await app.registry.setStreamState(detectorId, key, JSON.stringify(state), app.now());
        await queue.enqueue(events, spec.alerting.receivers);
        return events;
      },
      async process(detectorId, spec, rows) {
        const byEntity = new Map<string, ScoredRow[]>();
        for (const r of rows) {
          const list = byEntity.get(r.entity);
          if (list) list.push(r);
          else byEntity.set(r.entity, [r]);
        }
        const all: AlertEvent[] = [];
        for (const [entity, list] of byEntity) {
          list.sort((a, b) => a.timeMs - b.timeMs);
          const key = `alert:${entity}`;
          const stored = await app.registry.getStreamState(detectorId, key);
          const state: AlertState = stored
            ? (JSON.parse(stored) as AlertState)
            : { recent: [], firing: false };
          const { state: next, events } = evaluateAlertRule(
            {
              window: spec.alerting.window,
              minAnomalous: spec.alerting.minAnomalous,
              cooldownMinutes: spec.alerting.cooldownMinutes,
              minSeverity: spec.alerting.minSeverity,
            },
            state,
            list,
            describe(detectorId, entity),
          );
          await app.registry.setStreamState(detectorId, key, JSON.stringify(next), app.now());
          all.push(...events);
        }
        await queue.enqueue(all, spec.alerting.receivers);
        return all;
      },
    });
    app.addHook('preClose', async () => {
      clearInterval(sweep);
      // Give deliveries in flight a moment; what is left stays in the outbox for the next start.
      await Promise.race([queue.settled(), new Promise((r) => setTimeout(r, 2000).unref())]);
      await queue.stop();
    });
  },
  { name: 'alerts', dependencies: ['registry', 'telemetry'] },
);

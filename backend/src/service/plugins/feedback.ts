import fp from 'fastify-plugin';
import { GrafanaAnnotationsClient } from '../../io/grafana/annotations.js';
import { AnnotationFeedback } from '../application/annotation-feedback.js';
import { readSpec } from '../domain/spec.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Verdicts from tagged Grafana annotations; undefined unless ISOSCOPE_GRAFANA_URL and _TOKEN are set. */
    annotationFeedback: AnnotationFeedback | undefined;
  }
}

/**
 * Polls Grafana for annotations carrying a verdict tag every ISOSCOPE_GRAFANA_POLL_SECONDS (first
 * at start), when Grafana's URL and a token are configured; `start: false` leaves the polling to
 * the caller (tests call `app.annotationFeedback.poll()`). A failed poll is logged and tried again
 * at the next one: what it would have applied is still in Grafana and in the lookback window.
 */
export default fp<{ start?: boolean }>(
  async (app, opts) => {
    const { grafanaUrl, grafanaToken } = app.config;
    if (!grafanaUrl || !grafanaToken) {
      app.decorate('annotationFeedback', undefined);
      return;
    }
    const client = new GrafanaAnnotationsClient(grafanaUrl, grafanaToken);
    const feedback = new AnnotationFeedback({
      incidents: app.registry.incidents,
      annotations: (q) => client.list(q),
      intervalMs: async (id) => {
        const d = await app.registry.getDetector(id);
        if (!d) return undefined;
        try {
          return readSpec(id, d.spec).intervalSeconds * 1000;
        } catch {
          return undefined;
        }
      },
      now: () => app.now(),
      lookbackMs: app.config.grafanaLookbackHours * 3_600_000,
      log: app.log,
    });
    app.decorate('annotationFeedback', feedback);
    if (opts.start === false) return;

    let timer: NodeJS.Timeout | undefined;
    let polling: Promise<void> = Promise.resolve();
    let failing = false;
    const poll = (): void => {
      polling = feedback
        .poll()
        .then((outcome) => {
          app.telemetry.feedbackPolls.inc({ outcome: 'ok' });
          app.telemetry.feedbackVerdicts.inc(outcome.verdicts);
          if (failing) app.log.info({ grafana: grafanaUrl }, 'reading verdicts from Grafana works again');
          failing = false;
        })
        .catch((err: unknown) => {
          app.telemetry.feedbackPolls.inc({ outcome: 'failed' });
          // Once per outage at warn; the next polls say nothing new until it works again.
          if (!failing)
            app.log.warn(
              { grafana: grafanaUrl, err: (err as Error).message },
              'reading verdicts from Grafana annotations failed; retried every poll',
            );
          failing = true;
        });
    };
    app.addHook('onReady', async () => {
      poll();
      timer = setInterval(poll, app.config.grafanaPollSeconds * 1000);
      timer.unref();
    });
    app.addHook('preClose', async () => {
      if (timer) clearInterval(timer);
      await polling;
    });
  },
  { name: 'feedback', dependencies: ['registry', 'telemetry'] },
);

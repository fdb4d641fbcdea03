import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { ServiceError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Probes and metrics: never rate limited, never refused as overloaded. */
    probe?: boolean;
  }
}

/**
 * How late the event loop runs: the longest delay seen in the last sample window, in ms. A request
 * arriving right after a long stall (a model training on the loop, a huge answer being built)
 * sees that stall and is refused at once, instead of queueing behind more of the same.
 */
export class EventLoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private lag = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(sampleMs = 500) {
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.lag = this.histogram.max / 1e6;
      this.histogram.reset();
    }, sampleMs);
    this.timer.unref();
  }

  lagMs(): number {
    return this.lag;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

/**
 * Answers API requests 503 OVERLOADED with Retry-After when the event loop lags more than
 * ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS, before any work is done for them; probe routes (/healthz,
 * /readyz, /metrics) always go through. `lag` replaces the measurement (tests).
 */
export default fp<{ lag?: () => number }>(
  async (app, options) => {
    const max = app.config.maxEventLoopDelayMs;
    if (max === 0) return;
    let lag = options.lag;
    if (!lag) {
      const monitor = new EventLoopLag();
      app.addHook('onClose', async () => monitor.stop());
      lag = () => monitor.lagMs();
    }
    const measure = lag;
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.probe) return;
      const now = measure();
      if (now > max) {
        app.telemetry.overloaded.inc();
        throw new ServiceError(
          'OVERLOADED',
          `the service is overloaded (event loop ${Math.round(now)} ms behind, limit ${max} ms); retry shortly`,
        );
      }
    });
  },
  { name: 'overload', dependencies: ['config', 'telemetry', 'errors'] },
);

/**
 * A signal that fires when the client goes away before its answer is complete (Grafana cancels
 * a panel's query when the dashboard's range changes, a load balancer gives up): reads pass it to
 * InfluxDB's client, which aborts the query instead of finishing work nobody will receive.
 */
export function whenAbandoned(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished)
      controller.abort(
        new ServiceError(
          'BAD_REQUEST',
          'the client went away before its answer; its InfluxDB query was cancelled',
        ),
      );
  });
  return controller.signal;
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { ServiceError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Probes and metrics: never rate limited, never refused as overloaded. */
    probe?: boolean;
  }
}

/**
 * How late the event loop runs, in ms: the longest delay of a sample window. A service behind on
 * its requests stalls window after window, and a request arriving then is refused at once instead
 * of queueing behind more of the same. One stall alone (a registry transaction writing a fleet's
 * models, the start's schema compilation) is not overload: it is over by the time anyone could be
 * refused, and refusing after it would only turn away requests the loop is free to answer. So an
 * overload starts when two windows running were over the limit, and while it lasts (EPISODE_MS
 * after the last window over the limit) one window over is enough: refusing empties the queue
 * within a window, and waiting for two more each time would let it fill again in between.
 */
export class EventLoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private last = 0;
  private previous = 0;
  private episodeUntil = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    sampleMs = 500,
    private readonly episodeMs = 5000,
  ) {
    this.histogram.enable();
    let tick = performance.now();
    this.timer = setInterval(() => {
      // The sample's own lateness too: the histogram may record a stall only after this runs.
      const now = performance.now();
      const late = now - tick - sampleMs;
      tick = now;
      this.previous = this.last;
      this.last = Math.max(this.histogram.max / 1e6, late, 0);
      this.histogram.reset();
    }, sampleMs);
    this.timer.unref();
  }

  /** The delay that counts against `limitMs` now (see above). */
  lagMs(limitMs: number): number {
    const now = performance.now();
    const sustained = Math.min(this.last, this.previous);
    const counted = now < this.episodeUntil ? this.last : sustained;
    if (counted > limitMs) this.episodeUntil = now + this.episodeMs;
    return counted;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

/**
 * Queries waiting for an InfluxDB slot, per slot, beyond which the pool counts as saturated: with
 * 8 slots, 32 waiting is four rounds of queries ahead of a new one. A dashboard of 20 panels
 * opened by a few people at once stays under it; a sustained rate above what InfluxDB serves
 * passes it within a second, and from then on requests are refused instead of queued.
 */
export const QUEUED_PER_SLOT = 4;

/**
 * Answers API requests 503 OVERLOADED with Retry-After, before any work is done for them, while
 * the service is saturated: the event loop lags more than ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS (in two
 * sample windows running, then in one while the overload lasts, see EventLoopLag), or
 * InfluxDB's query pool has more than QUEUED_PER_SLOT × ISOSCOPE_INFLUX_MAX_QUERIES queries waiting.
 * The refusal costs a header check, so it comes back in milliseconds however long the queue.
 * Probe routes (/healthz, /readyz, /metrics) always go through. The queue bound is always on (it
 * counts, it does not time); the lag check is off with the setting at 0. Training, backfills and
 * live scoring run their streams on worker threads, so the loop's own stalls are registry writes.
 * `lag` replaces the measurement (tests).
 */
export default fp<{ lag?: () => number }>(
  async (app, options) => {
    const max = app.config.maxEventLoopDelayMs;
    let lag = options.lag;
    if (!lag && max > 0) {
      const monitor = new EventLoopLag();
      app.addHook('onClose', async () => monitor.stop());
      lag = () => monitor.lagMs(max);
    }
    const measure = lag ?? (() => 0);
    // How much of its time the event loop ran rather than waited: the main thread's CPU, without
    // the worker threads' scoring that process_cpu_seconds_total counts too. Over requests
    // answered, the loop's cost per request, which bounds the service's throughput.
    let busy = 0;
    new Counter({
      name: 'isoscope_event_loop_busy_seconds_total',
      help: 'Time the main thread spent running callbacks (event loop utilization, active), seconds',
      registers: [app.metrics],
      collect() {
        const now = performance.eventLoopUtilization().active / 1000;
        this.inc(Math.max(0, now - busy));
        busy = now;
      },
    });
    const maxQueued = QUEUED_PER_SLOT * app.config.influxMaxQueries;
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.probe) return;
      const now = measure();
      if (max > 0 && now > max) {
        app.telemetry.overloaded.inc();
        throw new ServiceError(
          'OVERLOADED',
          `the service is overloaded (event loop ${Math.round(now)} ms behind, limit ${max} ms); retry shortly`,
        );
      }
      const queued = app.influx.queryLoad.waiting;
      if (queued >= maxQueued) {
        app.telemetry.overloaded.inc();
        throw new ServiceError(
          'OVERLOADED',
          `the service is overloaded (${queued} InfluxDB queries waiting for ${app.config.influxMaxQueries} slots); retry shortly`,
        );
      }
    });
  },
  { name: 'overload', dependencies: ['config', 'telemetry', 'errors', 'influx'] },
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

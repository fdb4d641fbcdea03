import fp from 'fastify-plugin';
import { Health } from '../application/health.js';
import { dropStalePoints, incidentLine } from '../application/incident-points.js';
import { Incidents, type SuppressionCheck } from '../application/incidents.js';
import { readSpec } from '../domain/spec.js';
import type { IncidentRecord } from '../../io/registry/index.js';
import { suppresses } from '../domain/suppression.js';
import { Insight } from '../application/insight.js';
import { ResultsReader } from '../application/results.js';
import { Runtimes } from '../application/runtimes.js';
import { workerStreamSession } from '../../parallel/stream-session.js';
import { runStreamInWorker } from '../../parallel/train-pool.js';
import { explainWorker } from '../../parallel/explain-run.js';
import { Sources } from '../sources.js';

/**
 * How long a live scoring pass waits for InfluxDB to take its results before it fails: below the
 * 30 s after which readiness calls the scheduler stalled (3 ticks of 10 s), so a write outage
 * shows as the detectors failing with its error rather than as a pass that never ends.
 */
export const LIVE_WRITE_WAIT_MS = 20_000;

declare module 'fastify' {
  interface FastifyInstance {
    /** Where detectors read their source and write their results. */
    sources: Sources;
    /** Results read back from isoscope_anomaly. */
    resultsReader: ResultsReader;
    /** The detector runtimes: bootstrap, live scoring, backfill, stages. */
    runtimes: Runtimes;
    /** Explanations, drift, and the checkpoints' field distributions. */
    insight: Insight;
    /** Detector health: scoring lag, failures, last training, drift. */
    health: Health;
    /** Flagged rows grouped into incidents, fed by live scoring and backfills. */
    incidents: Incidents;
    /** The suppression rules as they stand: whether a flagged row of (detector, entity) is inside one. */
    suppression: () => Promise<SuppressionCheck>;
  }
}

/**
 * The application layer, built once with its dependencies (registry, InfluxDB reader and writer,
 * clock, metrics) and decorated for the routes and the scheduler, which stay thin.
 */
export default fp(
  async (app) => {
    const sources = new Sources(app.config, app.influx, app.results);
    const results = new ResultsReader(app.influx);
    const readSource = sources.read.bind(sources);
    const suppression = async (): Promise<SuppressionCheck> => {
      const rules = await app.registry.suppressions.list();
      return (detector, entity, row) => {
        // Oldest first, as the list is: the oldest rule that holds the row names it.
        const held = rules.filter((r) => suppresses(r, detector, entity, row));
        return held.length > 0 ? held.map((r) => ({ ruleId: r.id, reason: r.reason })) : undefined;
      };
    };
    const incidents = new Incidents({
      registry: app.registry,
      now: () => app.now(),
      suppression,
      flaggedRows: async (detector, entity, from, to) =>
        (await results.read(detector, from, to, { entity, anomaliesOnly: true })).map((r) => ({
          timeMs: r.timeMs,
          ...(r.topFeature !== undefined ? { topFeature: r.topFeature } : {}),
        })),
      // A rule added later that quietens a firing incident ends its open alert, as rows inside a
      // rule do in live scoring.
      onSuppressed: async (quietened) => {
        for (const r of quietened) {
          const d = await app.registry.getDetector(r.detectorId);
          if (!d) continue;
          await app.alerts.resolve(r.detectorId, readSpec(r.detectorId, d.spec), r.entity);
        }
      },
      // Each opened, changed or resolved incident rewrites its point in isoscope_incidents, next to
      // the detector's results (the same database and writer). A failure is logged, not thrown:
      // the registry holds the incident and scoring goes on.
      onChange: async (changed) => {
        try {
          const byDetector = new Map<string, IncidentRecord[]>();
          for (const r of changed) byDetector.set(r.detectorId, [...(byDetector.get(r.detectorId) ?? []), r]);
          for (const [id, records] of byDetector) {
            const d = await app.registry.getDetector(id);
            if (!d) continue;
            const spec = readSpec(id, d.spec);
            await sources.write(spec, records.map(incidentLine));
            // DELETE is InfluxQL (the v1 API); a Flux detector's moved incident keeps its old point.
            if (spec.source.language !== 'flux') await dropStalePoints(app.influx, records);
          }
        } catch (err) {
          app.log.warn({ err: (err as Error).message }, 'writing incidents to InfluxDB failed');
        }
      },
    });
    const runtimes = new Runtimes({
      registry: app.registry,
      readSource,
      writeResults: (spec, lines) => sources.write(spec, lines),
      // A live pass waits for InfluxDB at most this long, then fails (and is scored again).
      writeLiveResults: (spec, lines) => sources.writeLive(spec, lines, LIVE_WRITE_WAIT_MS),
      results,
      now: () => app.now(),
      onScored: (detector, rows) => app.telemetry.scoringRows.inc({ detector }, rows),
      // Training on a worker thread: /healthz and the scoring ticks answer while forests grow.
      runStream: runStreamInWorker,
      // Live scoring and backfills on worker threads too: the event loop only reads, writes and
      // answers, so the overload check can refuse on its delay (ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS).
      streamSession: workerStreamSession,
      onProduction: async (detector, rows, options) => {
        await incidents.record(detector, rows, options);
      },
    });
    const explainer = explainWorker();
    const insight = new Insight({
      registry: app.registry,
      readSource,
      results,
      now: () => app.now(),
      // An explanation replays its runtime from a checkpoint: on a worker, off the event loop.
      replayExplain: (task) => explainer.run(task),
      onDriftCheck: (detector, drifted) => {
        app.telemetry.driftChecks.inc({ detector });
        if (drifted) app.telemetry.driftConsensus.inc({ detector });
      },
    });
    app.decorate('sources', sources);
    app.decorate('resultsReader', results);
    app.decorate('runtimes', runtimes);
    app.addHook('onClose', async () => runtimes.close());
    app.decorate('insight', insight);
    app.addHook('onClose', async () => explainer.close());
    app.decorate('health', new Health({ registry: app.registry, now: () => app.now() }));
    app.decorate('incidents', incidents);
    app.decorate('suppression', suppression);
  },
  { name: 'application', dependencies: ['registry', 'influx', 'telemetry'] },
);

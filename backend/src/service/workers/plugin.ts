import fp from 'fastify-plugin';
import { RegistryError } from '../../io/registry/index.js';
import { ScoringInterrupted } from '../application/runtimes.js';
import { ShardQueue, type ShardJob } from './queue.js';
import { shardOf } from './shards.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The scoring queue (PostgreSQL registry, scoring on); undefined: everything in this process. */
    shardQueue: ShardQueue | undefined;
  }
}

/**
 * Queue mode, when the registry is PostgreSQL and scoring is on: the scheduler (roles api and
 * all) enqueues shard jobs through `app.shardQueue`, and roles worker and all work them here:
 * the shard's runtimes score past their cursors (Runtimes.scoreUpTo limited to the shard), the
 * alert rule runs over their rows, and the job completes. With SQLite nothing changes: the
 * scheduler scores in this process.
 */
export default fp<{ enabled: boolean }>(
  async (app, opts) => {
    const { config } = app;
    if (!opts.enabled || app.registry.backend !== 'postgres' || !config.registryUrl) {
      app.decorate('shardQueue', undefined);
      return;
    }
    const queue = new ShardQueue({
      url: config.registryUrl,
      leaseSeconds: config.leaseSeconds,
      onError: (err) => app.log.warn({ err: err.message }, 'scoring queue'),
    });
    await queue.start();
    app.decorate('shardQueue', queue);
    if (config.role !== 'api') {
      const score = async (job: ShardJob): Promise<void> => {
        let spec;
        try {
          ({ spec } = await app.runtimes.detector(job.detectorId));
        } catch (err) {
          // Deleted since it was enqueued: nothing to score.
          if (err instanceof RegistryError && err.code === 'NOT_FOUND') return;
          throw err;
        }
        let r;
        try {
          r = await app.runtimes.scoreUpTo(
            job.detectorId,
            job.to,
            (entity) => shardOf(job.detectorId, entity, job.shards) === job.shard,
          );
        } catch (err) {
          // A write InfluxDB did not take: the entities saved before it are done, and alert.
          if (err instanceof ScoringInterrupted && err.scored.length > 0)
            await app.alerts.process(job.detectorId, spec, err.scored);
          throw err;
        }
        await app.alerts.process(job.detectorId, spec, r.scored);
        if (r.rows > 0)
          app.log.info(
            { detector: job.detectorId, shard: job.shard, rows: r.rows, anomalies: r.anomalies },
            'scored',
          );
      };
      app.addHook('onReady', async () => queue.work(score));
    }
    // Finish the shard in hand (its writes and state) before the registry closes.
    app.addHook('preClose', async () => queue.stop());
  },
  { name: 'workers', dependencies: ['registry', 'application', 'alerts'] },
);

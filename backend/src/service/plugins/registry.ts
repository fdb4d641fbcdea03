import fp from 'fastify-plugin';
import { openRegistry, type Registry } from '../../io/registry/index.js';
import { JOB_SILENCE_MS } from '../jobs/runner.js';

/**
 * The model registry as `app.registry`: the given one (tests), PostgreSQL when
 * ISOSCOPE_REGISTRY_URL names one, else SQLite in the data directory.
 */
export default fp<{ registry?: Registry }>(
  async (app, opts) => {
    const registry = opts.registry ?? (await openRegistry(app.config));
    app.decorate('registry', registry);
    app.log.info({ backend: registry.backend }, 'registry open');
    // Workers run no training or backfill jobs: one starting (the HPA adds them often) must not mark
    // the api replicas' running jobs failed. SQLite has one process, so every job left unfinished was
    // the last one's; on PostgreSQL only jobs whose replica stopped beating are (see the jobs plugin).
    const silentSince = registry.backend === 'postgres' ? app.now() - JOB_SILENCE_MS : undefined;
    const interrupted =
      app.config.role === 'worker' ? 0 : await registry.failInterruptedJobs(app.now(), silentSince);
    if (interrupted > 0)
      app.log.warn({ interrupted }, 'jobs left running by the previous process were marked failed');
    app.addHook('onClose', async () => registry.close());
  },
  { name: 'registry', dependencies: ['config'] },
);

import { join } from 'node:path';
import fp from 'fastify-plugin';
import { SqliteRegistry, type Registry } from '../../io/registry/index.js';

/** The model registry as `app.registry`: the given one (tests) or SQLite in the data directory. */
export default fp<{ registry?: Registry }>(
  async (app, opts) => {
    const registry = opts.registry ?? new SqliteRegistry(join(app.config.dataDir, 'registry.db'));
    app.decorate('registry', registry);
    const interrupted = await registry.failInterruptedJobs(app.now());
    if (interrupted > 0)
      app.log.warn({ interrupted }, 'jobs left running by the previous process were marked failed');
    app.addHook('onClose', async () => registry.close());
  },
  { name: 'registry', dependencies: ['config'] },
);

import fp from 'fastify-plugin';
import { Scheduler } from '../jobs/scheduler.js';

declare module 'fastify' {
  interface FastifyInstance {
    scheduler: Scheduler;
  }
}

/** The scoring scheduler as `app.scheduler`; started unless `start: false` (tests tick it by hand). */
export default fp<{ start?: boolean }>(
  async (app, opts) => {
    const scheduler = new Scheduler(app);
    app.decorate('scheduler', scheduler);
    if (opts.start !== false) app.addHook('onReady', async () => scheduler.start());
    // Finish the scoring tick in progress (and its writes) before the writer closes.
    app.addHook('preClose', async () => scheduler.stop());
  },
  { name: 'scheduler', dependencies: ['registry', 'influx'] },
);

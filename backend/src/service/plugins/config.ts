import fp from 'fastify-plugin';
import type { Config } from '../config.js';

/** The validated config and the clock, as `app.config` and `app.now`. */
export default fp<{ config: Config; now?: () => number }>(
  async (app, opts) => {
    app.decorate('config', opts.config);
    app.decorate('now', opts.now ?? Date.now);
  },
  { name: 'config' },
);

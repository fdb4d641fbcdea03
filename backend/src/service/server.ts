import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import type { Config } from './config.js';

/**
 * Runs the service: listens, and on SIGINT/SIGTERM stops accepting, finishes in-flight requests
 * and closes the registry (close-with-grace gives it 30 s before forcing the exit: the scoring pass
 * in progress waits for InfluxDB up to 20 s and the results writer 5 s more, so both can end and
 * say what they leave; below the manifests' terminationGracePeriodSeconds of 45 and 75).
 */
export async function startServer(config: Config): Promise<{ url: string; close: () => Promise<void> }> {
  const app = await buildApp({ config, logger: true });
  const url = await app.listen({ host: config.host, port: config.port });
  const handler = closeWithGrace({ delay: 30_000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });
  return {
    url,
    close: async () => {
      handler.uninstall();
      await app.close();
    },
  };
}

import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../../backend/src/devtools/influxd.js';
import { testApp } from '../support/service.js';

/**
 * The service's API documentation as a person opens it: Debian's Chromium (installed by
 * scripts/install-deps.sh) loads /docs from a listening service and shows the operations.
 */
describe('API docs in a real browser (Chromium)', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    app = await testApp(`http://127.0.0.1:${await freePort()}`, 'x');
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('renders the OpenAPI document with every route group', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/docs`);
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 30_000 });
    const title = await page.locator('.swagger-ui .title').first().innerText();
    expect(title).toContain('Isoscope');
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    for (const path of [
      '/api/v1/detectors/',
      '/api/v1/detectors/{id}/train',
      '/api/v1/grafana/query',
      '/readyz',
    ]) {
      expect(paths.map((p) => p.replace(/\u200b/g, ''))).toContain(path);
    }
    await page.screenshot({ path: 'test/browser/out/api-docs.png' });
  });
});

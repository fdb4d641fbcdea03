import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AppliedAnnotation,
  IncidentFeedback,
  IncidentRecord,
  Registry,
} from '../../io/registry/index.js';
import { loadConfig } from '../config.js';
import configPlugin from './config.js';
import feedback from './feedback.js';
import telemetry from './telemetry.js';

const NOW = Date.UTC(2026, 11, 1, 12);

/**
 * The feedback plugin's own polling (a fake Grafana over HTTP, a registry in memory): started with
 * the app, it applies a tagged annotation without anyone calling poll.
 */
describe('the feedback plugin polls Grafana once started (an HTTP fake of Grafana, fakes for the registry)', () => {
  it('applies a tagged annotation as the app starts, without anyone calling poll', async () => {
    let asked = 0;
    const tokens: Array<string | undefined> = [];
    const grafana = createServer((req, res) => {
      asked++;
      tokens.push(req.headers.authorization);
      const body = [
        { id: 5, time: NOW - 60_000, updated: 1, tags: ['isoscope:real'], login: 'ann', text: 'ok' },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => grafana.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(grafana.address() as AddressInfo).port}`;

    const recorded: IncidentFeedback[] = [];
    const incident = {
      id: 'i1',
      detectorId: 'cpu',
      entity: 'web-1',
      state: 'firing',
      startAt: NOW - 5 * 60_000,
      endAt: NOW - 30_000,
    } as IncidentRecord;
    const registry = {
      getDetector: async () => undefined,
      incidents: {
        list: async () => [incident],
        appliedAnnotations: async () => new Map<string, AppliedAnnotation>(),
        addAnnotationFeedback: async (_source: unknown, f: IncidentFeedback[]) => {
          recorded.push(...f);
          return true;
        },
        standingAnnotations: async () => [],
      },
    } as unknown as Registry;
    const app = Fastify();
    const config = loadConfig(
      {},
      { dataDir: '/nonexistent', grafanaUrl: url, grafanaToken: 'sa-token', grafanaPollSeconds: 5 },
      undefined,
    );
    await app.register(configPlugin, { config, now: () => NOW });
    await app.register(telemetry);
    await app.register(fp(async (a) => void a.decorate('registry', registry), { name: 'registry' }));
    await app.register(feedback);
    try {
      await app.ready();
      while (recorded.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(recorded[0]).toMatchObject({
        incidentId: 'i1',
        verdict: 'real',
        actor: 'grafana:ann',
        note: 'ok',
      });
      // Counted for /metrics: the poll, and the verdict it recorded.
      const text = await app.metrics.metrics();
      expect(text).toMatch(/^isoscope_grafana_feedback_polls_total\{outcome="ok"\} [1-9]/m);
      expect(text).toMatch(/^isoscope_grafana_feedback_verdicts_total [1-9]/m);
    } finally {
      await app.close();
    }
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(new Set(tokens)).toEqual(new Set(['Bearer sa-token']));
    await new Promise<void>((r) => grafana.close(() => r()));
  });
});

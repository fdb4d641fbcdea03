import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { RegistryError } from '../../io/registry/index.js';
import { anomaliesJson } from '../application/anomaly-rows.js';
import { whenAbandoned } from '../plugins/overload.js';
import { cachedDetector } from '../plugins/read-cache.js';
import { parseRange, parseTime } from '../ranges.js';
import {
  Anomaly,
  BackfillRequest,
  DetectorParams,
  Explanation,
  ExplainQuery,
  Job,
  RangeQuery,
  ErrorResponses,
} from '../schemas/index.js';
import { toJob } from './models.js';

/** Results, backfills and explanations of one detector, under /api/v1/detectors/:id. */
const anomalies: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:id/anomalies',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['anomalies'],
        params: DetectorParams,
        querystring: RangeQuery,
        response: { 200: Type.Array(Anomaly), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      // It exists (its record read from the registry once every few seconds, not per request).
      await cachedDetector(app, request.params.id, '');
      const { from, to } = parseRange(request.query.from, request.query.to, 'querystring', 'results');
      // Only the anomalies cross the wire (InfluxDB filters them), and a client that leaves cancels
      // the read. The answer is written from the bytes of InfluxDB's (anomaly-rows.ts) as the
      // schema's serializer wrote it from objects, which it no longer sees.
      const rows = await app.resultsReader.anomalies(request.params.id, from, to, {
        signal: whenAbandoned(reply),
        ...(request.query.entity !== undefined ? { entity: request.query.entity } : {}),
        ...(request.query.minSeverity ? { minSeverity: request.query.minSeverity } : {}),
      });
      return reply.type('application/json; charset=utf-8').send(anomaliesJson(rows) as never);
    },
  );

  app.post(
    '/:id/backfill',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['anomalies'],
        description:
          "Scores a past range and writes the results back, as a job (202): each entity's production and staging runtime continues from the latest state of its lineage before the range (the live state, else its version's checkpoint, else a fresh bootstrap over the trainingWindowHours before it). The live runtimes are not changed.",
        params: DetectorParams,
        body: BackfillRequest,
        response: { 202: Job, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      await app.runtimes.detector(request.params.id);
      const { from, to } = parseRange(request.body.from, request.body.to, 'body', 'backfill');
      if (!(await app.registry.listModelVersions(request.params.id)).some((v) => v.stage === 'production')) {
        throw new RegistryError(
          'CONFLICT',
          `detector '${request.params.id}' has no production version: train and promote one first`,
        );
      }
      const job = await app.jobs.submit(request.params.id, 'backfill', (ctx) =>
        app.runtimes.backfill(request.params.id, from, to, ctx),
      );
      return reply.code(202).header('Location', `/api/v1/jobs/${job.id}`).send(toJob(job));
    },
  );

  app.get(
    '/:id/explain',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['anomalies'],
        description:
          "Why one moment scored as it did, told by the runtime that scored it: the stored result (score, the threshold it was judged against, severity, top feature, the version), then the version's checkpoint restored and the entity's rows from its end replayed up to the moment through the same stream detector, and the row explained by the forests that scored it (the group that flagged it, TreeSHAP per feature, each value against what the group learnt); `reproduced` says whether the replay gave the stored score. Replays at most the version's span (14 days at most; beyond, 422). And the raw series around the moment.",
        params: DetectorParams,
        querystring: ExplainQuery,
        response: { 200: Explanation, ...ErrorResponses },
      },
    },
    async (request) =>
      app.insight.explain(
        request.params.id,
        request.query.entity ?? '',
        parseTime(request.query.time, 'querystring/time'),
      ),
  );
};
export default anomalies;

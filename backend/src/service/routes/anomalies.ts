import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { explain, topFeatures, transformBatch } from '../../engine/index.js';
import { seriesMatrix } from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { scoreAndWrite, productionModels } from '../jobs/scoring.js';
import { UnprocessableError } from '../plugins/errors.js';
import { parseRange, parseTime } from '../ranges.js';
import { readResults } from '../results.js';
import {
  Anomaly,
  BackfillRequest,
  DetectorParams,
  Explanation,
  ExplainQuery,
  Job,
  RangeQuery,
  type DetectorSpec,
  ErrorResponses,
} from '../schemas/index.js';
import { readSource, resolveSource } from '../sources.js';
import { toJob } from './models.js';

/** Results, backfills and explanations of one detector, under /api/v1/detectors/:id. */
const anomalies: FastifyPluginAsyncTypebox = async (app) => {
  const detectorSpec = async (id: string): Promise<DetectorSpec> => {
    const d = await app.registry.getDetector(id);
    if (!d) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
    return d.spec as DetectorSpec;
  };

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
    async (request) => {
      await detectorSpec(request.params.id);
      const { from, to } = parseRange(request.query.from, request.query.to, 'querystring', 'results');
      const results = await readResults(app, request.params.id, from, to, {
        anomaliesOnly: true,
        ...(request.query.entity !== undefined ? { entity: request.query.entity } : {}),
        ...(request.query.minSeverity ? { minSeverity: request.query.minSeverity } : {}),
      });
      return results.map((r) => ({
        time: new Date(r.timeMs).toISOString(),
        entity: r.entity,
        score: r.score,
        severity: r.severity,
        modelVersion: r.modelVersion,
        ...(r.topFeature !== undefined ? { topFeature: r.topFeature } : {}),
        ...(r.topContribution !== undefined ? { topContribution: r.topContribution } : {}),
      }));
    },
  );

  app.post(
    '/:id/backfill',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['anomalies'],
        description:
          'Scores a past range with the production models and writes the results back, as a job (202).',
        params: DetectorParams,
        body: BackfillRequest,
        response: { 202: Job, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const spec = await detectorSpec(request.params.id);
      const { from, to } = parseRange(request.body.from, request.body.to, 'body', 'backfill');
      if ((await productionModels(app, request.params.id)).size === 0) {
        throw new RegistryError(
          'CONFLICT',
          `detector '${request.params.id}' has no production model: train and promote one first`,
        );
      }
      const step = Math.max(spec.intervalSeconds * 1000 * 1440, 3_600_000); // about a day of intervals per chunk
      const job = await app.jobs.submit(request.params.id, 'backfill', async (ctx) => {
        let rows = 0;
        let found = 0;
        for (let t = from; t < to; t += step) {
          ctx.checkpoint();
          await ctx.progress('scoring', (t - from) / (to - from));
          const r = await scoreAndWrite(app, request.params.id, t, Math.min(to, t + step));
          rows += r.rows;
          found += r.anomalies;
        }
        return { rows, anomalies: found };
      });
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
          'Why one moment scored as it did: TreeSHAP contributions, each feature against its training distribution, and the raw series around it.',
        params: DetectorParams,
        querystring: ExplainQuery,
        response: { 200: Explanation, ...ErrorResponses },
      },
    },
    async (request) => {
      const spec = await detectorSpec(request.params.id);
      const entity = request.query.entity ?? '';
      const time = parseTime(request.query.time, 'querystring/time');
      const model = (await productionModels(app, request.params.id)).get(entity);
      if (!model)
        throw new RegistryError(
          'NOT_FOUND',
          `detector '${request.params.id}' has no production model for entity '${entity}'`,
        );
      const source = resolveSource(spec);
      const step = spec.intervalSeconds * 1000;
      const lookback = Math.max(model.bundle.features.rollingWindow, model.bundle.features.shingle, 1) + 1;
      const around = 60 * step;
      const [series] = await readSource(
        app,
        spec,
        {
          ...source,
          tags: { ...source.tags, ...(source.entityTag && entity ? { [source.entityTag]: entity } : {}) },
        },
        time - Math.max(around, lookback * step),
        time + around,
      );
      if (!series)
        throw new UnprocessableError(
          `measurement '${source.measurement}' has no data for '${entity}' around ${request.query.time}`,
        );
      const fields = source.fields.map((f) => f.field);
      const raw = seriesMatrix(series);
      const batch = transformBatch(model.bundle.features, raw, series.timeMs);
      let row = -1;
      for (let i = 0; i < batch.sourceRow.length; i++) {
        const t = series.timeMs[batch.sourceRow[i]!]!;
        if (t <= time) row = i;
      }
      if (row < 0)
        throw new UnprocessableError(`no complete row at or before ${request.query.time} for '${entity}'`);
      const x = batch.matrix.data.subarray(row * batch.matrix.cols, (row + 1) * batch.matrix.cols);
      const e = explain(model.forest, x);
      const top = topFeatures(e.contributions, batch.names, batch.names.length);
      return {
        detector: request.params.id,
        entity,
        time: new Date(series.timeMs[batch.sourceRow[row]!]!).toISOString(),
        modelVersion: model.version.version,
        score: e.score,
        threshold: model.forest.threshold,
        anomaly: model.forest.isAnomaly(e.score),
        baseline: e.baseline,
        pathLength: e.pathLength,
        contributions: top.map((c) => {
          const ref = model.bundle.reference[c.index]!;
          const value = x[c.index]!;
          const below = ref.quantiles.findIndex((q) => q >= value);
          return {
            feature: c.feature,
            contribution: c.contribution,
            share: c.share,
            value,
            percentile: below < 0 ? 1 : below / 100,
            trainingP5: ref.quantiles[5]!,
            trainingMedian: ref.quantiles[50]!,
            trainingP95: ref.quantiles[95]!,
          };
        }),
        series: {
          fields,
          time: Array.from(series.timeMs),
          values: series.values.map((v) => Array.from(v, (y) => (Number.isNaN(y) ? null : y))),
        },
      };
    },
  );
};
export default anomalies;

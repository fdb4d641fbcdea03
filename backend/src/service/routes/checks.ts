import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { validateData } from '../../engine/index.js';
import type { EntitySeries } from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { productionModels } from '../jobs/scoring.js';
import { UnprocessableError } from '../plugins/errors.js';
import {
  DetectorParams,
  DriftReport,
  DriftRun,
  ValidationReport,
  WindowQuery,
  type DetectorSpec,
  ErrorResponses,
} from '../schemas/index.js';
import { readSource, resolveSource } from '../sources.js';
import { runDrift } from '../drift.js';
import { parseRange } from '../ranges.js';

/** Data validation of a window and drift against the production models, under /api/v1/detectors/:id. */
const checks: FastifyPluginAsyncTypebox = async (app) => {
  const read = async (
    id: string,
    from: number,
    to: number,
    entity?: string,
  ): Promise<{ spec: DetectorSpec; fields: string[]; series: EntitySeries[] }> => {
    const d = await app.registry.getDetector(id);
    if (!d) throw new RegistryError('NOT_FOUND', `no detector '${id}'`);
    const spec = d.spec as DetectorSpec;
    const source = resolveSource(spec);
    const series = (await readSource(app, spec, source, from, to)).filter(
      (s) => entity === undefined || s.entity === entity,
    );
    if (series.length === 0) {
      throw new UnprocessableError(
        `measurement '${source.measurement}' has no data${entity ? ` for '${entity}'` : ''} between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
      );
    }
    return { spec, fields: source.fields.map((f) => f.field), series };
  };

  app.get(
    '/:id/validation',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['checks'],
        description:
          "The six data checks on a window of the detector's source, per entity, against the production model's training data.",
        params: DetectorParams,
        querystring: WindowQuery,
        response: { 200: Type.Array(ValidationReport), ...ErrorResponses },
      },
    },
    async (request) => {
      const { from, to } = parseRange(request.query.from, request.query.to, 'querystring', 'source');
      const { fields, series } = await read(request.params.id, from, to, request.query.entity);
      const models = await productionModels(app, request.params.id);
      return series.map((s) => {
        const model = models.get(s.entity);
        const reference = model
          ? {
              columns: fields.filter((f) => model.bundle.reference.some((r) => r.feature === f)),
              values: fields
                .filter((f) => model.bundle.reference.some((r) => r.feature === f))
                .map((f) => Float64Array.from(model.bundle.reference.find((r) => r.feature === f)!.sample)),
            }
          : undefined;
        const report = validateData(
          { columns: fields, values: s.values, timeMs: s.timeMs },
          reference && reference.columns.length > 0 ? reference : undefined,
          { expectedColumns: fields },
        );
        return { entity: s.entity, ...report };
      });
    },
  );

  app.post(
    '/:id/drift',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['checks'],
        description:
          "Runs the five drift tests now: the last `hours` of each entity's features against its production model's training sample. Stored; GET returns the latest.",
        params: DetectorParams,
        body: Type.Optional(DriftRun),
        response: { 200: Type.Array(DriftReport), ...ErrorResponses },
      },
    },
    async (request) => {
      return runDrift(app, request.params.id, request.body?.hours ?? 24);
    },
  );

  app.get(
    '/:id/drift',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['checks'],
        params: DetectorParams,
        response: { 200: Type.Array(DriftReport), ...ErrorResponses },
      },
    },
    async (request) => {
      if (!(await app.registry.getDetector(request.params.id)))
        throw new RegistryError('NOT_FOUND', `no detector '${request.params.id}'`);
      return (await app.registry.latestDriftReports(request.params.id)).map(
        (r) => JSON.parse(r) as DriftReport,
      );
    },
  );
};
export default checks;

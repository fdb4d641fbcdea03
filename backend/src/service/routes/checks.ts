import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { validateData } from '../../engine/index.js';
import type { EntitySeries } from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { UnprocessableError } from '../plugins/errors.js';
import {
  DetectorParams,
  DriftReport,
  DriftRun,
  ValidationReport,
  WindowQuery,
  ErrorResponses,
} from '../schemas/index.js';
import type { DetectorSpec } from '../domain/spec.js';
import { resolveSource } from '../sources.js';
import { parseRange } from '../ranges.js';

/** Data validation of a window and drift against the production models, under /api/v1/detectors/:id. */
const checks: FastifyPluginAsyncTypebox = async (app) => {
  const read = async (
    id: string,
    from: number,
    to: number,
    entity?: string,
  ): Promise<{ spec: DetectorSpec; fields: string[]; series: EntitySeries[] }> => {
    const { spec } = await app.runtimes.detector(id);
    const source = resolveSource(spec);
    const series = (await app.sources.read(spec, source, from, to)).filter(
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
          "The six data checks on a window of the detector's source, per entity, against the rows its production version was bootstrapped on.",
        params: DetectorParams,
        querystring: WindowQuery,
        response: { 200: Type.Array(ValidationReport), ...ErrorResponses },
      },
    },
    async (request) => {
      const { from, to } = parseRange(request.query.from, request.query.to, 'querystring', 'source');
      const { fields, series } = await read(request.params.id, from, to, request.query.entity);
      const refs = await app.insight.references(request.params.id);
      return series.map((s) => {
        const known = refs.get(s.entity)?.reference.filter((r) => fields.includes(r.feature)) ?? [];
        const reference =
          known.length > 0
            ? { columns: known.map((r) => r.feature), values: known.map((r) => Float64Array.from(r.sample)) }
            : undefined;
        const report = validateData({ columns: fields, values: s.values, timeMs: s.timeMs }, reference, {
          expectedColumns: fields,
        });
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
          "Runs the five drift tests now: the last `hours` of each entity's fields against the sample its production version was bootstrapped on. Stored; GET returns the latest.",
        params: DetectorParams,
        body: Type.Optional(DriftRun),
        response: { 200: Type.Array(DriftReport), ...ErrorResponses },
      },
    },
    async (request) => {
      return app.insight.drift(request.params.id, request.body?.hours ?? 24);
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

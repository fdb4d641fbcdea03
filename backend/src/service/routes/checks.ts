import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { driftReport, transformBatch, validateData } from '../../engine/index.js';
import type { EntitySeries } from '../../io/influx/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { productionModels } from '../jobs/scoring.js';
import { UnprocessableError } from '../plugins/errors.js';
import {
  DetectorParams,
  DriftReport,
  DriftRun,
  ErrorResponse,
  ValidationReport,
  WindowQuery,
  type DetectorSpec,
} from '../schemas/index.js';
import { readSource, resolveSource } from '../sources.js';

const errors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  503: ErrorResponse,
};

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
        response: { 200: Type.Array(ValidationReport), ...errors },
      },
    },
    async (request) => {
      const from = Date.parse(request.query.from);
      const to = Date.parse(request.query.to);
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
        response: { 200: Type.Array(DriftReport), ...errors },
      },
    },
    async (request) => {
      const to = app.now();
      const hours = request.body?.hours ?? 24;
      const from = to - hours * 3_600_000;
      const models = await productionModels(app, request.params.id);
      if (models.size === 0)
        throw new RegistryError(
          'CONFLICT',
          `detector '${request.params.id}' has no production model to compare with`,
        );
      const { fields, series } = await read(request.params.id, from, to);
      const reports: DriftReport[] = [];
      for (const s of series) {
        const model = models.get(s.entity);
        if (!model) continue;
        const n = s.timeMs.length;
        const raw = { rows: n, cols: fields.length, data: new Float64Array(n * fields.length) };
        for (let r = 0; r < n; r++)
          for (let f = 0; f < fields.length; f++) raw.data[r * fields.length + f] = s.values[f]![r]!;
        const current = transformBatch(model.bundle.features, raw, s.timeMs).matrix;
        if (current.rows < 2) continue;
        const names = model.bundle.featureNames;
        const sampleRows = Math.min(...model.bundle.reference.map((r) => r.sample.length));
        const refData = new Float64Array(sampleRows * names.length);
        for (let r = 0; r < sampleRows; r++)
          for (let c = 0; c < names.length; c++)
            refData[r * names.length + c] = model.bundle.reference[c]!.sample[r]!;
        const report = driftReport(names, { rows: sampleRows, cols: names.length, data: refData }, current);
        const stored: DriftReport = {
          detector: request.params.id,
          entity: s.entity,
          modelVersion: model.version.version,
          at: new Date(to).toISOString(),
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          drifted: report.drifted,
          driftedFeatures: report.driftedFeatures,
          ranking: report.ranking,
          features: report.features.map((f) => ({
            feature: f.feature,
            votes: f.votes,
            drifted: f.drifted,
            ks: f.ks,
            psi: f.psi,
            jensenShannon: f.jensenShannon,
            wasserstein: f.wasserstein,
            wassersteinScaled: Number.isFinite(f.wassersteinScaled) ? f.wassersteinScaled : 1e308,
            ...(f.andersonDarling ? { andersonDarling: f.andersonDarling } : {}),
            verdicts: f.verdicts,
          })),
        };
        app.telemetry.driftChecks.inc({ detector: request.params.id });
        if (report.drifted) app.telemetry.driftConsensus.inc({ detector: request.params.id });
        await app.registry.addDriftReport(
          request.params.id,
          model.version.version,
          s.entity,
          to,
          JSON.stringify(stored),
        );
        reports.push(stored);
      }
      return reports;
    },
  );

  app.get(
    '/:id/drift',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['checks'],
        params: DetectorParams,
        response: { 200: Type.Array(DriftReport), ...errors },
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

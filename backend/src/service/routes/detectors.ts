import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { excerpt } from '../../io/excerpt.js';
import { RegistryError, type DetectorRecord } from '../../io/registry/index.js';
import { ServiceError, UnprocessableError } from '../plugins/errors.js';
import {
  Detector,
  DetectorInput,
  DetectorParams,
  DetectorSpec,
  DetectorUpdate,
  Preview,
  PreviewQuery,
  PreviewRequest,
  ErrorResponses,
} from '../schemas/index.js';
import { productionModels } from '../jobs/scoring.js';
import { detectorId, readSource, resolveSource } from '../sources.js';

function toDetector(r: DetectorRecord): Detector {
  return {
    id: r.id,
    name: r.name,
    spec: r.spec as DetectorSpec,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

/**
 * Refuses what the schema cannot: an unknown preset, a fixed threshold beside a threshold policy,
 * an alert receiver this service has not configured.
 */
function checkSpec(spec: DetectorSpec, configured: readonly string[]): void {
  resolveSource(spec);
  const missing = (spec.alerting.receivers ?? []).filter((r) => !configured.includes(r));
  if (missing.length > 0) {
    throw new ServiceError(
      'BAD_REQUEST',
      `spec.alerting.receivers: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not configured on this service (configured: ${configured.join(', ') || 'none'})`,
    );
  }
  if (spec.model.threshold !== undefined && spec.model.thresholdPolicy !== undefined) {
    throw new ServiceError(
      'BAD_REQUEST',
      'spec.model.threshold and spec.model.thresholdPolicy: give a fixed threshold or a policy, not both',
    );
  }
}

/** /api/v1/detectors: what to watch. Viewers read, editors create and change, admins delete. */
const detectors: FastifyPluginAsyncTypebox = async (app) => {
  const receiverNames = (): string[] => app.alerts.queue.receiverNames;
  app.get(
    '/',
    {
      config: { role: 'viewer' },
      schema: { tags: ['detectors'], response: { 200: Type.Array(Detector), ...ErrorResponses } },
    },
    async () => (await app.registry.listDetectors()).map(toDetector),
  );

  app.post(
    '/',
    {
      config: { role: 'editor' },
      schema: { tags: ['detectors'], body: DetectorInput, response: { 201: Detector, ...ErrorResponses } },
    },
    async (request, reply) => {
      const { name, spec } = request.body;
      checkSpec(spec, receiverNames()); // before anything is stored
      const id = detectorId(name);
      if (id === '') throw new ServiceError('BAD_REQUEST', `body/name '${excerpt(name)}' gives an empty id`);
      const created = await app.registry.createDetector({ id, name, spec }, app.now());
      return reply.code(201).header('Location', `/api/v1/detectors/${id}`).send(toDetector(created));
    },
  );

  app.get(
    '/:id',
    {
      config: { role: 'viewer' },
      schema: { tags: ['detectors'], params: DetectorParams, response: { 200: Detector, ...ErrorResponses } },
    },
    async (request) => {
      const found = await app.registry.getDetector(request.params.id);
      if (!found) throw new RegistryError('NOT_FOUND', `no detector '${request.params.id}'`);
      return toDetector(found);
    },
  );

  app.put(
    '/:id',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['detectors'],
        params: DetectorParams,
        body: DetectorUpdate,
        response: { 200: Detector, ...ErrorResponses },
      },
    },
    async (request) => {
      if (request.body.spec) {
        checkSpec(request.body.spec, receiverNames());
        await checkFitsModels(request.params.id, request.body.spec);
      }
      return toDetector(await app.registry.updateDetector(request.params.id, request.body, app.now()));
    },
  );

  app.get(
    '/:id/preview',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['detectors'],
        description:
          "The detector's source data for the last minutes, as the model would read it: a live preview for the editor.",
        params: DetectorParams,
        querystring: PreviewQuery,
        response: { 200: Preview, ...ErrorResponses },
      },
    },
    async (request) => {
      const found = await app.registry.getDetector(request.params.id);
      if (!found) throw new RegistryError('NOT_FOUND', `no detector '${request.params.id}'`);
      return preview(found.spec as DetectorSpec, request.query.minutes);
    },
  );

  app.post(
    '/preview',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['detectors'],
        description:
          'The source data of a detector that is not saved yet, for the last minutes: the editor shows it while a detector is being created.',
        querystring: PreviewQuery,
        body: PreviewRequest,
        response: { 200: Preview, ...ErrorResponses },
      },
    },
    async (request) => preview(request.body.spec, request.query.minutes),
  );

  /**
   * A spec whose fields no longer match the production models' inputs would make every score,
   * explanation and drift check of those models fail: refused with 409 naming the fields.
   */
  async function checkFitsModels(id: string, spec: DetectorSpec): Promise<void> {
    const fields = resolveSource(spec).fields.map((f) => f.field);
    const models = [...(await productionModels(app, id)).entries()];
    const misfits = models
      .filter(([, m]) => m.bundle.features.fields.join('\n') !== fields.join('\n'))
      .sort(([a], [b]) => a.localeCompare(b));
    if (misfits.length === 0) return;
    const trained = misfits[0]![1].bundle.features.fields;
    const removed = trained.filter((f) => !fields.includes(f));
    const added = fields.filter((f) => !trained.includes(f));
    const change = [
      removed.length ? `removes ${removed.map((f) => `'${excerpt(f)}'`).join(', ')}` : '',
      added.length ? `adds ${added.map((f) => `'${excerpt(f)}'`).join(', ')}` : '',
      !removed.length && !added.length ? 'reorders the fields' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const entities = misfits.map(([entity, m]) => `${entity || '(all)'} v${m.version.version}`);
    throw new ServiceError(
      'FEATURE_MISMATCH',
      `spec.source ${change}, but the production models (${excerpt(entities.join(', '), 200)}) were trained on ${trained.map((f) => `'${excerpt(f)}'`).join(', ')}: archive them (admin) or create a new detector, then train`,
    );
  }

  async function preview(spec: DetectorSpec, minutes: number): Promise<Preview> {
    const source = resolveSource(spec);
    const to = app.now();
    const from = to - minutes * 60_000;
    const series = await readSource(app, spec, source, from, to);
    if (series.length === 0) {
      throw new UnprocessableError(
        `measurement '${source.measurement}' has no data for fields ${source.fields.map((f) => f.field).join(', ')} between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
      );
    }
    return {
      measurement: source.measurement,
      fields: source.fields.map((f) => f.field),
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      entities: series.map((s) => ({
        entity: s.entity,
        rows: s.timeMs.length,
        time: Array.from(s.timeMs),
        values: s.values.map((v) => Array.from(v, (x) => (Number.isNaN(x) ? null : x))),
      })),
    };
  }
};
export default detectors;

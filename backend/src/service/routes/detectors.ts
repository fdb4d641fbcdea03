import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { excerpt } from '../../io/excerpt.js';
import { RegistryError, type DetectorRecord } from '../../io/registry/index.js';
import { checkSpec, detectorId, readSpec, type DetectorSpec } from '../domain/spec.js';
import { ServiceError, UnprocessableError } from '../plugins/errors.js';
import {
  Detector,
  DetectorInput,
  DetectorParams,
  DetectorHealth,
  DetectorUpdate,
  Preview,
  PreviewQuery,
  PreviewRequest,
  ErrorResponses,
} from '../schemas/index.js';
import { resolveSource } from '../sources.js';

function toDetector(r: DetectorRecord): Detector {
  return {
    id: r.id,
    name: r.name,
    spec: readSpec(r.id, r.spec),
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

/** The spec's own checks, and that its source resolves (an unknown preset is named). */
function checkAll(spec: DetectorSpec, configured: readonly string[]): void {
  resolveSource(spec);
  checkSpec(spec, configured);
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
      checkAll(spec, receiverNames()); // before anything is stored
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
      if (request.body.spec) checkAll(request.body.spec, receiverNames());
      return toDetector(await app.registry.updateDetector(request.params.id, request.body, app.now()));
    },
  );

  app.get(
    '/:id/health',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['detectors'],
        description:
          'Whether each entity is scored and how far behind, scoring failures, the last training and drift: what the Detectors page and /metrics show.',
        params: DetectorParams,
        response: { 200: DetectorHealth, ...ErrorResponses },
      },
    },
    async (request) => app.health.of(request.params.id),
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
      return preview(readSpec(found.id, found.spec), request.query.minutes);
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

  async function preview(spec: DetectorSpec, minutes: number): Promise<Preview> {
    const source = resolveSource(spec);
    const to = app.now();
    const from = to - minutes * 60_000;
    const series = await app.sources.read(spec, source, from, to);
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

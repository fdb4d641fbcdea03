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
import { forgetDetector } from '../plugins/read-cache.js';

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
      if (request.body.spec) {
        checkAll(request.body.spec, receiverNames());
        await checkFieldsFit(request.params.id, request.body.spec);
      }
      const updated = await app.registry.updateDetector(request.params.id, request.body, app.now());
      // Grafana's queries keep a detector's spec a few seconds: this change is seen by the next.
      forgetDetector(app, request.params.id);
      return toDetector(updated);
    },
  );

  /**
   * A spec whose fields (or their order) differ from those its production or staging models were
   * trained on is refused (409 FEATURE_MISMATCH, naming them): those runtimes read their rows as the columns they
   * learnt, and would score the new columns as the old ones. A new detector, or archiving those
   * versions first, changes the fields.
   */
  async function checkFieldsFit(id: string, spec: DetectorSpec): Promise<void> {
    const wanted = resolveSource(spec).fields.map((f) => f.field);
    const misfits = (await app.runtimes.liveFields(id)).filter(
      (v) => v.fields.length !== wanted.length || v.fields.some((f, i) => f !== wanted[i]),
    );
    if (misfits.length === 0) return;
    const first = misfits[0]!;
    const removed = first.fields.filter((f) => !wanted.includes(f));
    const added = wanted.filter((f) => !first.fields.includes(f));
    const list = (fields: string[]): string => excerpt(fields.join(', '), 200);
    const change = [
      ...(removed.length ? [`removes ${list(removed)}`] : []),
      ...(added.length ? [`adds ${list(added)}`] : []),
      ...(removed.length + added.length === 0 ? ['reorders them'] : []),
    ].join(' and ');
    const versions = misfits.map((v) => `${v.version}${v.entity ? ` (${excerpt(v.entity, 40)})` : ''}`);
    throw new ServiceError(
      'FEATURE_MISMATCH',
      `the spec's fields no longer fit the ${first.stage} models of detector '${id}': they were trained on ${list(first.fields)}, the spec ${change}. Versions in production or staging: ${excerpt(versions.join(', '), 200)}. Create a new detector for these fields, or archive those versions first`,
    );
  }

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
